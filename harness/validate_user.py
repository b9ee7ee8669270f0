"""Score a team's own labelled data with the shipped metric models (no retraining).

Three formats, told apart by extension and header:

- JSONL: one ``{"text", "label"}`` object per line (+ ``context``, ``group``, optional ``kind``);
- EPITOME-format CSV: ``seeker_post, response_post, level`` (+ ``sp_id``, ``rp_id``); the dimension
  comes from ``KIND=`` or the file name (emotional-reactions / interpretations / explorations);
- AnnoMI-format CSV: ``interlocutor, utterance_text, main_therapist_behaviour`` (+ the AnnoMI-full
  subtype columns ``question_subtype`` / ``reflection_subtype``), therapist rows only.

Every label is checked before anything is scored: an unknown one is a ``ConfigError`` naming file,
line and field (the CLI exits 2). Per-item predictions are returned so they can be written beside
the figures for a reviewer to read the disagreements.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.yamlio import iter_jsonl

LABELS: dict[str, tuple[str, ...]] = {
    "risk": ("none", "low", "moderate", "high", "imminent"),
    "mi_behaviour": ("question", "reflection", "therapist_input", "other"),
    "mi_question": ("open", "closed"),
    "mi_reflection": ("simple", "complex"),
    "mi_code": (),  # filled from harness.metrics.mi.CODES on use
    "empathy_er": ("0", "1", "2"),
    "empathy_ip": ("0", "1", "2"),
    "empathy_ex": ("0", "1", "2"),
    "summary_risk": ("Low", "Medium", "High"),
}
USER_KINDS = tuple(LABELS)
EPITOME_NAMES = {"emotional-reactions": "empathy_er", "interpretations": "empathy_ip", "explorations": "empathy_ex"}
ANNOMI_FIELDS = {
    "mi_behaviour": "main_therapist_behaviour",
    "mi_question": "question_subtype",
    "mi_reflection": "reflection_subtype",
}


@dataclass
class Item:
    text: str
    label: str
    context: str | None
    group: str
    line: int


def allowed_labels(kind: str) -> tuple[str, ...]:
    if kind not in LABELS:
        raise ConfigError(f"unknown validation kind {kind!r} (known: {', '.join(USER_KINDS)})")
    if kind == "mi_code":
        from harness.metrics.mi import CODES

        return CODES
    return LABELS[kind]


def _check(path: Path, line: int, field: str, label: str, kind: str) -> str:
    allowed = allowed_labels(kind)
    if label not in allowed:
        raise ConfigError(
            f"{path}:{line}: field {field!r} has unknown label {label!r} for {kind} (known: {', '.join(allowed)})"
        )
    return label


def read_jsonl_items(kind: str, path: Path) -> list[Item]:
    items = []
    for line, obj in iter_jsonl(path):
        if not isinstance(obj.get("text"), str):
            raise ConfigError(f"{path}:{line}: field 'text' must be a string")
        if obj.get("label") in (None, ""):
            raise ConfigError(f"{path}:{line}: field 'label' is missing")
        label = _check(path, line, "label", str(obj["label"]), kind)
        items.append(Item(obj["text"], label, obj.get("context"), str(obj.get("group", "")), line))
    if not items:
        raise ConfigError(f"{path}: no labelled examples")
    return items


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def read_epitome_items(kind: str, path: Path) -> list[Item]:
    import pandas as pd

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in ("seeker_post", "response_post", "level"):
        if column not in df.columns:
            raise ConfigError(f"{path}: missing column {column!r} (EPITOME format: seeker_post, response_post, level)")
    groups = df["sp_id"] if "sp_id" in df.columns else df["seeker_post"]
    return [
        Item(resp, _check(path, i + 2, "level", level.strip(), kind), seeker, str(group), i + 2)
        for i, (seeker, resp, level, group) in enumerate(
            zip(df["seeker_post"], df["response_post"], df["level"], groups, strict=True)
        )
    ]


def read_annomi_items(kind: str, path: Path) -> list[Item]:
    """Therapist rows of an AnnoMI-format CSV with a label for ``kind``; blank subtypes are skipped."""
    import pandas as pd

    field = ANNOMI_FIELDS[kind]
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in ("interlocutor", "utterance_text", field):
        if column not in df.columns:
            raise ConfigError(f"{path}: missing column {column!r} for {kind} (AnnoMI format)")
    group = df["transcript_id"] if "transcript_id" in df.columns else [""] * len(df)
    items, previous_client = [], None
    for i, (who, text, label, g) in enumerate(
        zip(df["interlocutor"], df["utterance_text"], df[field], group, strict=True)
    ):
        if who == "client":
            previous_client = text
            continue
        if who != "therapist" or _blank(label) or (kind != "mi_behaviour" and label.strip().lower() in ("nan", "")):
            continue
        items.append(Item(text, _check(path, i + 2, field, label.strip(), kind), previous_client, str(g), i + 2))
    return items


def file_kinds(path: Path, kind: str | None = None) -> list[str]:
    """The kinds a labelled file validates: ``kind`` if given, else read from its header or name."""
    if kind:
        allowed_labels(kind)
        return [kind]
    if path.suffix.lower() == ".csv":
        import pandas as pd

        header = set(pd.read_csv(path, nrows=0).columns)
        if {"seeker_post", "response_post", "level"} <= header:
            hit = [k for name, k in EPITOME_NAMES.items() if name in path.name]
            if not hit:
                raise ConfigError(
                    f"{path}: EPITOME-format CSV, but the dimension is not in its name",
                    hint="pass KIND=PATH with KIND empathy_er, empathy_ip or empathy_ex",
                )
            return hit
        if {"interlocutor", "utterance_text"} <= header:
            return [k for k, f in ANNOMI_FIELDS.items() if f in header]
        raise ConfigError(f"{path}: CSV header matches neither the EPITOME nor the AnnoMI format")
    first = next((obj for _, obj in iter_jsonl(path)), {})
    if first.get("kind"):
        return [str(first["kind"])]
    for candidate in sorted(USER_KINDS, key=len, reverse=True):
        if path.stem.startswith(candidate):
            return [candidate]
    raise ConfigError(
        f"{path}: cannot tell which metric this file validates",
        hint=f'add "kind": "risk" to the lines or name the file <kind>*.jsonl ({", ".join(USER_KINDS)})',
    )


def read_items(kind: str, path: Path) -> list[Item]:
    if not path.exists():
        raise ConfigError(f"labelled file not found: {path}")
    if path.suffix.lower() != ".csv":
        return read_jsonl_items(kind, path)
    if kind.startswith("empathy_"):
        return read_epitome_items(kind, path)
    if kind in ANNOMI_FIELDS:
        return read_annomi_items(kind, path)
    raise ConfigError(f"{path}: a CSV validates empathy_* (EPITOME) or mi_behaviour/question/reflection (AnnoMI)")


def predict(kind: str, items: Sequence[Item], encoder: str = "lexical") -> list[str]:
    """The shipped metric's label for each item (no retraining)."""
    texts = [i.text for i in items]
    contexts = [i.context for i in items]
    if kind == "risk":
        from harness.metrics.risk import assess_risk

        return [assess_risk(t).level for t in texts]
    if kind.startswith("empathy_"):
        from harness.metrics.empathy_model import EmpathyModel

        dim = kind.split("_")[1]
        return [str(p[dim]) for p in EmpathyModel.default(encoder).predict(contexts, texts)]
    if kind == "summary_risk":
        from harness.metrics.risk import parse_summary_risk

        return [str(parse_summary_risk(t)) for t in texts]
    from harness.metrics.mi import get_coder

    coder = get_coder(encoder)
    if kind == "mi_behaviour":
        return coder.utterance_behaviour(texts, contexts)
    coded = coder.code_many(texts, contexts)
    if kind == "mi_code":
        return [s[0].code if s else "other" for s in coded]
    from harness.metrics.mi import utterance_subtypes

    return utterance_subtypes(coder, texts, contexts, kind.split("_")[1], coded)


def validate_labelled_file(
    path: Path, kind: str | None = None, encoder: str = "lexical"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(figures per kind, per-item predictions) for one labelled file scored with the shipped models."""
    from harness.validation.statistics import _classification, risk_figures

    figures, rows = [], []
    for k in file_kinds(path, kind):
        items = read_items(k, path)
        if not items:
            raise ConfigError(f"{path}: no labelled rows for {k}")
        pred = predict(k, items, encoder)
        if k == "risk":
            result = risk_figures([{"text": i.text, "label": i.label} for i in items])
        else:
            result = _classification([i.label for i in items], pred)
        figures.append({"kind": k, "file": str(path), "encoder": encoder, **result})
        rows += [
            {"file": path.name, "line": i.line, "kind": k, "label": i.label, "predicted": p, "agree": i.label == p,
             "text": i.text}
            for i, p in zip(items, pred, strict=True)
        ]  # fmt: skip
    return figures, rows
