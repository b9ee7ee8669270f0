"""``harness suites import``: a new suite version from a CSV, JSON(L), Parquet file or a ``datasets`` folder.

Columns map onto case fields (``--map input=Context --map reference=Response``; dotted names reach
into labels, e.g. ``labels.risk_level=risk``); unmapped columns whose names are case fields are
taken as they are. Every row is validated as a :class:`harness.suite.Case` before anything is
written, so a bad row is an error naming its file, line and field and no half suite is left
behind. The version folder must be new: released versions never change.

``suite.yaml`` comes from ``--like SUITE/VERSION`` (prompt, generation and metrics of an
existing suite; its gates are left out, since their thresholds were measured on other cases) or a
minimal one for the task (``generic``: ROUGE and BERTScore against the reference).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from harness.errors import ConfigError
from harness.suite import Case, default_suites_dir, load_suite, parse_suite_ref
from harness.variants.sources import read_rows

_VERSION = re.compile(r"^v\d+[A-Za-z0-9_.\-]*$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
DEFAULT_METRICS: dict[str, list[dict[str, Any]]] = {
    "generic": [{"name": "rouge"}, {"name": "bertscore"}],
    "therapy": [{"name": "rouge"}, {"name": "bertscore"}, {"name": "risk_detection"}, {"name": "empathy"}],
    "summarization": [{"name": "rouge"}, {"name": "bertscore"}, {"name": "word_limit"}],
    "discharge_qa": [{"name": "rouge"}, {"name": "bertscore"}, {"name": "groundedness"}],
}


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """``["input=Context", ...]`` -> ``{"input": "Context"}`` (case field -> source column)."""
    mapping: dict[str, str] = {}
    for item in items:
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ConfigError(f"--map {item!r}: expected CASE_FIELD=COLUMN, e.g. input=Context")
        mapping[field.strip()] = column.strip()
    return mapping


def row_to_case(row: Mapping[str, Any], mapping: Mapping[str, str], where: str, *, index: int, prefix: str,
                split: str, split_column: str | None) -> Case:
    data: dict[str, Any] = {k: v for k, v in row.items() if k in Case.model_fields and v not in (None, "")}
    for field, column in mapping.items():
        if column not in row:
            raise ConfigError(f"{where}: column {column!r} (--map {field}={column}) is missing; "
                              f"columns: {', '.join(map(str, row))}")
        value = row[column]
        head, _, rest = field.partition(".")
        if rest:
            data.setdefault(head, {})[rest] = value
        else:
            data[field] = value
    if isinstance(data.get("messages"), str):
        data["messages"] = json.loads(data["messages"])
    for key in ("labels", "meta"):  # CSV cells may hold JSON objects
        if isinstance(data.get(key), str):
            data[key] = json.loads(data[key])
    data.setdefault("id", f"{prefix}-{index:04d}")
    data["id"] = str(data["id"])
    data["split"] = str(row.get(split_column, "")).strip() if split_column else data.get("split", split)
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(row)"
        raise ConfigError(f"{where}: field '{field}': {first['msg']}",
                          hint="map columns with --map CASE_FIELD=COLUMN (input, reference, question, ...)") from None


def suite_yaml(name: str, version: str, task: str, like: str | None, suites_dir: Path | None,
               source: Path) -> dict[str, Any]:
    if like:
        name_like, version_like = parse_suite_ref(like)
        here = suites_dir is not None and (suites_dir / name_like).is_dir()
        base = load_suite(name_like, version_like, suites_dir if here else None)  # yours, else the shipped ones
        spec = base.spec.model_dump(mode="json", exclude_defaults=True)
        spec.pop("gates", None)
        spec.update(name=name, version=version,
                    description=f"Imported from {source.name}; prompt and metrics from {base.key} (no gates yet).")
        return spec
    if task not in DEFAULT_METRICS:
        raise ConfigError(f"--task {task!r}: expected one of {', '.join(DEFAULT_METRICS)}")
    return {"name": name, "version": version, "task": task, "description": f"Imported from {source.name}.",
            "prompt": {"template": "{{ input or question or transcript }}"}, "metrics": DEFAULT_METRICS[task]}


def import_suite(source: Path, ref: str, *, mapping: Mapping[str, str] | None = None, task: str = "generic",
                 like: str | None = None, split: str = "test", split_column: str | None = None,
                 fmt: str = "auto", source_split: str | None = None, suites_dir: Path | None = None) -> Path:
    """Write ``<suites_dir>/<name>/<version>/`` from ``source``; returns the folder (validated by loading it)."""
    name, version = parse_suite_ref(ref)
    if version is None or not _VERSION.match(version) or not _NAME.match(name):
        raise ConfigError(f"--suite {ref!r}: expected NAME/VERSION such as my-summaries/v1 "
                          "(lower-case name; version v1, v2, ...)")
    root = suites_dir or default_suites_dir()
    target = root / name / version
    if target.exists():
        raise ConfigError(f"{target} already exists; suite versions never change: import into a new version")
    cases = [row_to_case(row, mapping or {}, where, index=i, prefix=name, split=split, split_column=split_column)
             for i, (where, row) in enumerate(read_rows(source, fmt, source_split), start=1)]
    if not cases:
        raise ConfigError(f"{source}: no rows to import")
    ids = [c.id for c in cases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"{source}: duplicate case ids {dupes[:5]}; map a unique id column with --map id=COLUMN")
    spec = suite_yaml(name, version, task, like, suites_dir, source)
    target.mkdir(parents=True)
    try:
        (target / "suite.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
        with (target / "cases.jsonl").open("w", encoding="utf-8") as handle:
            for case in cases:
                handle.write(json.dumps(case.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False) + "\n")
        load_suite(name, version, root)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target
