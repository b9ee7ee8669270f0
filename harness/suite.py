"""Suites: versioned, immutable sets of cases with a prompt, metrics and gates.

A suite version lives in ``suites/<name>/<version>/`` as ``suite.yaml`` + ``cases.jsonl``
(+ ``documents.jsonl`` for document-grounded tasks). Its content hash covers all three
files; released versions are pinned in ``suites/released.json`` so that a change to a
released version is caught by a test instead of silently changing every comparison.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.errors import ConfigError
from harness.yamlio import format_validation_error, iter_jsonl, load_yaml, validate_yaml_model

RiskLevel = Literal["none", "low", "moderate", "high", "imminent"]
SummaryRisk = Literal["Low", "Medium", "High"]
Split = Literal["train", "dev", "test"]
TaskType = Literal["therapy", "summarization", "discharge_qa", "generic"]

RISK_ORDER: tuple[str, ...] = ("none", "low", "moderate", "high", "imminent")


def default_suites_dir() -> Path:
    """The shipped ``suites/`` folder: the clone's, or the installed package's copy (``harness.paths``)."""
    from harness.paths import shipped_dir

    return shipped_dir("suites")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Message(_Strict):
    role: Literal["system", "user", "assistant"]
    content: str = Field(min_length=1)


class Labels(_Strict):
    """Expert (here: author) labels that metrics compare against."""

    risk_level: RiskLevel | None = None
    risk_cues: list[str] = Field(default_factory=list)
    summary_risk: SummaryRisk | None = None
    answerable: bool | None = None
    expected_behaviour: list[str] = Field(default_factory=list)


class Case(_Strict):
    """One evaluation item. Which fields are filled depends on the suite's task type."""

    id: str = Field(min_length=1)
    split: Split
    topic: str | None = None
    tags: list[str] = Field(default_factory=list)
    # inputs
    input: str | None = None
    messages: list[Message] | None = None
    transcript: str | None = None
    document_id: str | None = None
    document: str | None = None
    question: str | None = None
    # expectations
    reference: str | None = None
    references: list[str] = Field(default_factory=list)
    labels: Labels = Field(default_factory=Labels)
    word_limit: int | None = Field(default=None, gt=0)
    required_sections: list[str] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)
    gold_passage: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_an_input(self) -> Case:
        if not any([self.input, self.messages, self.transcript, self.question]):
            raise ValueError("a case needs one of: input, messages, transcript, question")
        if self.messages is not None and self.messages[-1].role != "user":
            raise ValueError("messages must end with a 'user' turn (the one the model answers)")
        return self

    @property
    def all_references(self) -> list[str]:
        refs = [self.reference] if self.reference else []
        return refs + [r for r in self.references if r not in refs]

    @property
    def user_text(self) -> str:
        """The help-seeker's or patient's own words (what risk detection reads)."""
        if self.messages:
            return "\n".join(m.content for m in self.messages if m.role == "user")
        return self.input or self.question or self.transcript or ""

    def content_hash(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


class Document(_Strict):
    id: str = Field(min_length=1)
    title: str = ""
    text: str = Field(min_length=1)
    meta: dict[str, Any] = Field(default_factory=dict)


class PromptSpec(_Strict):
    system: str | None = None
    template: str = "{{ input }}"


class MetricSpec(_Strict):
    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class GateSpec(_Strict):
    """A ship/no-ship rule evaluated by ``pytest suites/``.

    threshold: mean of ``metric`` over the cases must be >= ``min`` (or <= ``max``).
    must_pass: every case selected by ``where`` must have ``metric`` >= ``min`` (default 1).
    non_inferiority: paired comparison vs. the baseline; the worse bound of the 95% CI of
    (candidate - baseline) must be above ``-margin`` (Student t / Newcombe / cluster bootstrap).
    """

    id: str | None = None
    type: Literal["threshold", "must_pass", "non_inferiority"]
    metric: str
    min: float | None = None
    max: float | None = None
    margin: float | None = None
    where: dict[str, list[Any]] = Field(default_factory=dict)
    rationale: str = ""
    allow_skip: str | None = Field(
        default=None, min_length=10,
        description="reviewed reason why this gate may be skipped when it cannot be evaluated; without it,"
        " a gate that cannot be evaluated fails. Shown in the output and JUnit XML.",
    )

    @model_validator(mode="after")
    def _check_fields(self) -> GateSpec:
        if self.type == "threshold" and self.min is None and self.max is None:
            raise ValueError("a threshold gate needs 'min' or 'max'")
        if self.type == "non_inferiority" and self.margin is None:
            raise ValueError("a non_inferiority gate needs 'margin'")
        return self

    @property
    def gate_id(self) -> str:
        return self.id or f"{self.type}-{self.metric}"


class GenerationOverrides(_Strict):
    max_new_tokens: int | None = Field(default=None, gt=0)


class SuiteSpec(_Strict):
    name: str
    version: str
    task: TaskType
    description: str = ""
    prompt: PromptSpec = Field(default_factory=PromptSpec)
    generation: GenerationOverrides = Field(default_factory=GenerationOverrides)
    metrics: list[MetricSpec] = Field(default_factory=list)
    gates: list[GateSpec] = Field(default_factory=list)
    eval_splits: list[Split] = Field(default_factory=lambda: ["test"])
    primary_metrics: list[str] = Field(
        default_factory=list, max_length=5,
        description="metric keys declared before any run as this suite's answer to 'is a candidate better than"
        " the baseline?': the report's verdict compares them, Holm-corrected over these only. Empty: the"
        " per-suite defaults in harness/verdict.py.",
    )

    @field_validator("metrics")
    @classmethod
    def _unique_metrics(cls, value: list[MetricSpec]) -> list[MetricSpec]:
        names = [m.name for m in value]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"metric listed twice: {sorted(dupes)}")
        return value


class Suite:
    """A loaded suite version: spec, cases (documents resolved) and content hash."""

    def __init__(self, spec: SuiteSpec, cases: list[Case], directory: Path, content_hash: str,
                 line_of: Callable[[Sequence[Any]], int | None] | None = None) -> None:
        self.spec = spec
        self.cases = cases
        self.directory = directory
        self.hash = content_hash
        self._line_of = line_of

    def spec_line(self, *loc: Any) -> int | None:
        """Line in suite.yaml of a key path such as ``("gates", 0, "where")`` (None if unknown)."""
        return self._line_of(loc) if self._line_of else None

    def spec_where(self, *loc: Any) -> str:
        """``suite.yaml:LINE: field 'a.0.b'`` for error messages."""
        line = self.spec_line(*loc)
        return f"{self.directory / 'suite.yaml'}{f':{line}' if line else ''}: field '{'.'.join(map(str, loc))}'"

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def key(self) -> str:
        return f"{self.name}/{self.version}"

    def select(self, splits: Iterable[str] | None = None, limit: int | None = None) -> list[Case]:
        wanted = set(splits or self.spec.eval_splits)
        chosen = [c for c in self.cases if c.split in wanted]
        return chosen[:limit] if limit else chosen

    @cached_property
    def documents(self) -> dict[str, Document]:
        return _load_documents(self.directory / "documents.jsonl")

    def __repr__(self) -> str:
        return f"Suite({self.key}, {len(self.cases)} cases, hash={self.hash[:12]})"


def content_hash(directory: Path) -> str:
    """sha256 over the suite files (line endings normalised), in a fixed order."""
    digest = hashlib.sha256()
    for filename in ("suite.yaml", "cases.jsonl", "documents.jsonl"):
        path = directory / filename
        if path.exists():
            digest.update(filename.encode())
            digest.update(path.read_bytes().replace(b"\r\n", b"\n"))
    return digest.hexdigest()


def _load_documents(path: Path) -> dict[str, Document]:
    if not path.exists():
        return {}
    documents: dict[str, Document] = {}
    for line, obj in iter_jsonl(path):
        try:
            doc = Document.model_validate(obj)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, path, line=line)) from None
        if doc.id in documents:
            raise ConfigError(f"{path}:{line}: duplicate document id {doc.id!r}")
        documents[doc.id] = doc
    return documents


def load_cases(path: Path, documents: dict[str, Document] | None = None) -> list[Case]:
    """Load and validate ``cases.jsonl``; ``document_id`` is resolved into ``document``."""
    documents = documents or {}
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for line, obj in iter_jsonl(path):
        doc_id = obj.get("document_id")
        if doc_id is not None and not obj.get("document"):
            if doc_id not in documents:
                raise ConfigError(
                    f"{path}:{line}: field 'document_id': unknown document {doc_id!r}",
                    hint="add it to documents.jsonl in the same folder",
                )
            obj = {**obj, "document": documents[doc_id].text}
        try:
            case = Case.model_validate(obj)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, path, line=line)) from None
        if case.id in seen:
            raise ConfigError(f"{path}:{line}: duplicate case id {case.id!r} (first on line {seen[case.id]})")
        seen[case.id] = line
        cases.append(case)
    if not cases:
        raise ConfigError(f"{path}: no cases")
    return cases


def available_versions(name: str, suites_dir: Path | None = None) -> list[str]:
    base = (suites_dir or default_suites_dir()) / name
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / "suite.yaml").exists())


def available_suites(suites_dir: Path | None = None) -> list[str]:
    base = suites_dir or default_suites_dir()
    return sorted(p.name for p in base.iterdir() if p.is_dir() and available_versions(p.name, base))


def load_suite(name: str, version: str | None = None, suites_dir: Path | None = None) -> Suite:
    """Load ``suites/<name>/<version>``; ``version=None`` means the newest version."""
    suites_dir = suites_dir or default_suites_dir()
    versions = available_versions(name, suites_dir)
    if not versions:
        known = ", ".join(available_suites(suites_dir)) or "none"
        raise ConfigError(f"unknown suite {name!r} in {suites_dir} (known suites: {known})")
    if version is None:
        version = versions[-1]
    if version not in versions:
        raise ConfigError(
            f"suite {name!r} has no version {version!r} (available: {', '.join(versions)})",
            hint=f"versions live in {suites_dir / name}/<version>/suite.yaml",
        )
    directory = suites_dir / name / version
    located = load_yaml(directory / "suite.yaml")
    spec = validate_yaml_model(SuiteSpec, located)
    if spec.name != name or spec.version != version:
        raise ConfigError(
            f"{directory / 'suite.yaml'}:{located.line_of(('name',)) or 1}: field 'name'/'version':"
            f" ({spec.name}/{spec.version}) "
            f"do not match the folder ({name}/{version})"
        )
    documents = _load_documents(directory / "documents.jsonl")
    cases = load_cases(directory / "cases.jsonl", documents)
    return Suite(spec, cases, directory, content_hash(directory), located.line_of)


def parse_suite_ref(ref: str) -> tuple[str, str | None]:
    """``"therapy/v1"`` -> ("therapy", "v1"); ``"therapy"`` -> ("therapy", None)."""
    name, _, version = ref.partition("/")
    return name, (version or None)


def released_hashes(suites_dir: Path | None = None) -> dict[str, str]:
    path = (suites_dir or default_suites_dir()) / "released.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text())
