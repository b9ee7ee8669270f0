"""Training data for LoRA variants: builders and the leakage check (mixing: ``harness.variants.mixing``;
chat formatting: ``harness.variants.chat_format``; both re-exported here).

Every builder returns a :class:`BuiltDataset`: chat records ``{"messages": [...]}`` (or
preference records ``{"prompt", "chosen", "rejected"}`` in TRL's conversational format), a
held-out eval part and a content hash that goes into the adapter's fingerprint.

Leakage: a suite-derived set only ever reads *train* cases (dev cases serve as eval loss only),
and every example from any source is compared (normalised user text) with the *test and dev*
cases of every suite under ``suites/``, as :mod:`harness.leakage` defines it; a match raises
:class:`DataLeakageError` naming both ids, because an adapter that saw evaluation inputs makes
every score it gets meaningless.

Loss masking: SmolLM2's chat template has no ``{% generation %}`` markers, which TRL's
``assistant_only_loss`` needs, and TRL cannot patch it. :func:`training_chat_template` adds the
markers around assistant content + ``<|im_end|>`` (so the model learns to stop) and checks that
the patched template renders byte-identically to the original; templates it cannot patch fall
back to prompt/completion records with loss on the final assistant turn.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError, DataLeakageError
from harness.variants.public_sets import _build_annomi, _build_counselchat
from harness.variants.records import (  # noqa: F401  (re-exported)
    ROLES,
    Messages,
    _messages_from,
    _resolve_path,
    _split_eval,
    _with_system,
    normalise_text,
)

# The leakage rules live in harness.leakage (one place for every leakage check); these names stay importable here.
from harness.leakage import PROTECTED_SPLITS  # noqa: F401  isort: skip
from harness.leakage import check_training_leakage as check_leakage  # isort: skip
from harness.leakage import find_record_leaks as find_leaks  # noqa: F401  isort: skip
from harness.leakage import leakage_index  # isort: skip
from harness.suite import Case, load_suite, parse_suite_ref
from harness.variants.config import (
    PREFERENCE_KINDS,
    AnnomiDataset,
    ChatDataset,
    ChatJsonlDataset,
    CounselChatDataset,
    DatasetSpec,
    PreferenceDataset,
    PreferenceJsonlDataset,
    PromptResponseJsonlDataset,
    SuiteTrainDataset,
    TrainingConfig,
)
from harness.variants.sources import read_rows, rename_columns, row_to_messages

# Mixing and chat formatting live in sibling modules; these names stay importable here.
from harness.variants.chat_format import drop_overlong, to_prompt_completion, training_chat_template  # noqa: F401  isort: skip
from harness.variants.mixing import allocate, mix_phase, phase_eval_records, phase_size  # noqa: F401  isort: skip

if TYPE_CHECKING:
    from datasets import Dataset



@dataclass
class BuiltDataset:
    """One declared dataset, built: records with ids, a held-out eval part and a content hash."""

    name: str
    kind: str
    records: list[dict[str, Any]]
    eval_records: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def is_preference(self) -> bool:
        return self.kind in PREFERENCE_KINDS

    @property
    def content_hash(self) -> str:
        payload = {"train": self.records, "eval": self.eval_records}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    @property
    def train(self) -> Dataset:
        return records_to_dataset(self.records)

    @property
    def eval(self) -> Dataset | None:
        return records_to_dataset(self.eval_records) if self.eval_records else None

    def summary(self) -> dict[str, Any]:
        return {"kind": self.kind, "train": len(self.records), "eval": len(self.eval_records),
                "hash": self.content_hash, **self.meta}


def records_to_dataset(records: Sequence[dict[str, Any]]) -> Dataset:
    """Records without their ids (TRL keeps unknown columns around), as a datasets.Dataset."""
    from datasets import Dataset

    rows = [{k: v for k, v in r.items() if k != "id"} for r in records]
    return Dataset.from_list(rows)


# ----------------------------------------------------------------------------- builders


def build_dataset(name: str, spec: DatasetSpec, config: TrainingConfig, base_dir: Path,
                  suites_dir: Path | None = None) -> BuiltDataset:
    """Build one declared dataset (no leakage check: see :func:`build_datasets`)."""
    fraction = spec.eval_fraction if spec.eval_fraction is not None else config.training.eval_fraction
    seed = config.seed
    if isinstance(spec, SuiteTrainDataset):
        built = _build_suite_train(name, spec, config, suites_dir)
        if not built.eval_records:
            built.records, built.eval_records = _split_eval(built.records, fraction, seed)
    elif isinstance(spec, CounselChatDataset):
        records, meta = _build_counselchat(name, spec, _system_for(spec, config), base_dir)
        records, held = _split_eval(records, fraction, seed, group=lambda r: r["id"].split(":")[1])
        built = BuiltDataset(name, spec.kind, records, held, meta)
    elif isinstance(spec, AnnomiDataset):
        records, meta = _build_annomi(name, spec, _system_for(spec, config), base_dir)
        records, held = _split_eval(records, fraction, seed, group=lambda r: r["id"].split(":")[1])
        built = BuiltDataset(name, spec.kind, records, held, meta)
    elif isinstance(spec, ChatJsonlDataset):
        records = _build_chat_jsonl(name, spec, _system_for(spec, config), base_dir)
        records, held = _split_eval(records, fraction, seed)
        built = BuiltDataset(name, spec.kind, records, held, {"path": spec.path})
    elif isinstance(spec, PromptResponseJsonlDataset):
        records = _build_prompt_response(name, spec, _system_for(spec, config), base_dir)
        records, held = _split_eval(records, fraction, seed)
        built = BuiltDataset(name, spec.kind, records, held, {"path": spec.path})
    elif isinstance(spec, ChatDataset):
        records = _build_chat_any(name, spec, _system_for(spec, config), base_dir)
        records, held = _split_eval(records, fraction, seed)
        built = BuiltDataset(name, spec.kind, records, held, {"path": spec.path})
    elif isinstance(spec, PreferenceJsonlDataset | PreferenceDataset):
        records, meta = _build_preferences(name, spec, _system_for(spec, config), base_dir)
        records, held = _split_eval(records, fraction, seed)
        built = BuiltDataset(name, spec.kind, records, held, meta)
    else:  # pragma: no cover - the discriminated union makes this unreachable
        raise ConfigError(f"dataset {name!r}: unknown kind {spec.kind!r}")
    if spec.max_examples is not None and len(built.records) > spec.max_examples:
        rng = random.Random(seed)
        built.records = sorted(rng.sample(built.records, spec.max_examples), key=lambda r: r["id"])
    if not built.records:
        raise ConfigError(f"dataset {name!r} ({spec.kind}) holds no training examples after filtering")
    return built


def build_datasets(config: TrainingConfig, base_dir: Path, suites_dir: Path | None = None,
                   names: Iterable[str] | None = None) -> dict[str, BuiltDataset]:
    """Build the datasets the stages use (or ``names``) and refuse any test-case overlap."""
    wanted = list(names) if names is not None else used_datasets(config)
    built = {n: build_dataset(n, config.datasets[n], config, base_dir, suites_dir) for n in wanted}
    check_leakage(built.values(), leakage_index(suites_dir))
    return built


def used_datasets(config: TrainingConfig) -> list[str]:
    """Dataset names referenced by some stage, in declaration order (unused ones are not built)."""
    used: set[str] = set()
    for stage in config.stages:
        if stage.type == "sft":
            for phase in stage.phases:
                used.update(phase.datasets)
        else:
            used.add(stage.dataset)
    return [n for n in config.datasets if n in used]


def _system_for(spec: DatasetSpec, config: TrainingConfig) -> str | None:
    if spec.system is not None:
        return spec.system or None
    return config.system or None


def _build_suite_train(name: str, spec: SuiteTrainDataset, config: TrainingConfig,
                       suites_dir: Path | None) -> BuiltDataset:
    from harness.prompting import build_messages

    suite_name, version = parse_suite_ref(spec.suite)
    suite = load_suite(suite_name, version, suites_dir)
    if spec.system is not None:
        system = spec.system or None
    elif spec.use_suite_system and suite.spec.prompt.system:
        system = suite.spec.prompt.system
    else:
        system = config.system or None

    def keep(case: Case) -> bool:
        f = spec.filter
        return ((not f.topics or case.topic in f.topics)
                and (not f.tags or bool(set(f.tags) & set(case.tags)))
                and (not f.case_ids or case.id in f.case_ids)
                and case.id not in f.exclude_case_ids
                and (not f.risk_levels or case.labels.risk_level in f.risk_levels)
                and (not f.require_reference or bool(case.reference)))

    unknown = set(spec.filter.case_ids) - {c.id for c in suite.cases}
    if unknown:
        raise ConfigError(f"dataset {name!r}: filter.case_ids names unknown cases of {suite.key}: {sorted(unknown)}")
    not_train = {c.id for c in suite.cases if c.id in spec.filter.case_ids and c.split != "train"}
    if not_train:
        raise DataLeakageError(
            f"dataset {name!r}: filter.case_ids selects non-train cases of {suite.key}: {sorted(not_train)}; "
            "a suite_train dataset may only use the train split"
        )

    def to_record(case: Case) -> dict[str, Any] | None:
        if not case.reference:
            return None
        messages = build_messages(suite, case, system=system)
        messages.append({"role": "assistant", "content": case.reference.strip()})
        return {"id": f"{suite.key}:{case.id}", "messages": messages}

    train = [r for c in suite.cases if c.split == "train" and keep(c) if (r := to_record(c))]
    held: list[dict[str, Any]] = []
    if spec.eval_split == "dev":
        held = [r for c in suite.cases if c.split == "dev" if (r := to_record(c))]
    meta = {"suite": suite.key, "suite_hash": suite.hash, "system": "suite" if system == suite.spec.prompt.system
            else ("custom" if system else "none")}
    return BuiltDataset(name, spec.kind, train, held, meta)


def _build_chat_jsonl(name: str, spec: ChatJsonlDataset, system: str | None, base_dir: Path) -> list[dict[str, Any]]:
    path = _resolve_path(spec.path, base_dir, base_dir, "path", name)
    records = []
    for line, (where, obj) in enumerate(read_rows(path), start=1):
        if "messages" not in obj:
            raise ConfigError(f"{where}: expected a 'messages' list")
        messages = _messages_from(obj["messages"], where)
        if messages[-1]["role"] != "assistant" or not any(m["role"] == "user" for m in messages):
            raise ConfigError(f"{where}: a chat example needs a user turn and must end with an assistant turn")
        records.append({"id": f"{name}:{obj.get('id', line)}", "messages": _with_system(messages, system)})
    return records


def _build_prompt_response(name: str, spec: PromptResponseJsonlDataset, system: str | None,
                           base_dir: Path) -> list[dict[str, Any]]:
    path = _resolve_path(spec.path, base_dir, base_dir, "path", name)
    records = []
    for line, (where, obj) in enumerate(read_rows(path), start=1):
        prompt, response = obj.get("prompt"), obj.get("response", obj.get("completion"))
        if not isinstance(prompt, str) or not prompt.strip() or not isinstance(response, str) or not response.strip():
            raise ConfigError(f"{where}: expected non-empty text fields 'prompt' and 'response'")
        line_system = obj.get("system", system)
        messages = [{"role": "user", "content": prompt.strip()}, {"role": "assistant", "content": response.strip()}]
        records.append({"id": f"{name}:{obj.get('id', line)}", "messages": _with_system(messages, line_system)})
    return records


def _build_chat_any(name: str, spec: ChatDataset, system: str | None, base_dir: Path) -> list[dict[str, Any]]:
    path = _resolve_path(spec.path, base_dir, base_dir, "path", name)
    records = []
    for line, (where, row) in enumerate(read_rows(path, spec.format, spec.split), start=1):
        messages = row_to_messages(rename_columns(row, spec.columns, where), where, spec.roles)
        records.append({"id": f"{name}:{row.get('id', line)}", "messages": _with_system(messages, system)})
    return records


def _build_preferences(name: str, spec: PreferenceJsonlDataset | PreferenceDataset, system: str | None,
                       base_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    path = _resolve_path(spec.path, base_dir, base_dir, "path", name)
    records, ties = [], 0
    rows = (read_rows(path, spec.format, spec.split) if isinstance(spec, PreferenceDataset) else read_rows(path))
    columns = spec.columns if isinstance(spec, PreferenceDataset) else {}
    for line, (where, raw) in enumerate(rows, start=1):
        obj = rename_columns(raw, columns, where)
        missing = [k for k in ("prompt", "chosen", "rejected") if k not in obj]
        if missing:
            raise ConfigError(f"{where}: missing {', '.join(missing)}; expected prompt, chosen and rejected")
        raw_prompt = obj["prompt"]
        if isinstance(raw_prompt, str):
            prompt = [{"role": "user", "content": raw_prompt.strip()}] if raw_prompt.strip() else []
        else:
            prompt = _messages_from(raw_prompt, f"{where}: prompt")
        if not prompt or prompt[-1]["role"] != "user":
            raise ConfigError(f"{where}: prompt must be non-empty text or messages ending on a user turn")
        pair = []
        for key in ("chosen", "rejected"):
            value = obj[key]
            if isinstance(value, str):
                if not value.strip():
                    raise ConfigError(f"{where}: {key} is empty")
                pair.append([{"role": "assistant", "content": value.strip()}])
            else:
                pair.append(_messages_from(value, f"{where}: {key}", roles=("assistant",)))
        if pair[0] == pair[1]:
            ties += 1
            continue
        prompt = _with_system(prompt, obj.get("system", system))
        records.append({"id": f"{name}:{obj.get('id', line)}", "prompt": prompt, "chosen": pair[0],
                        "rejected": pair[1]})
    return records, {"path": str(path), "dropped_identical_pairs": ties}



