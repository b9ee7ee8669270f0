"""Reading a team's own training data: JSON, JSON lines, CSV, Parquet or a ``datasets`` folder, in the
common shapes, into chat messages. docs/data-formats.md shows each with an example.

Every row comes with a location (``file:line`` for JSON lines and CSV, ``file: item N`` for JSON,
``file: row N`` for Parquet and datasets folders) that every error names, with the field.

Shapes (detected per row, after the optional ``columns:`` renaming):

- ``messages``: ``[{"role", "content"}, ...]`` (ShareGPT's ``{"from", "value"}`` turns too);
- ``conversations``: turns as above, or turn pairs such as ``[{"user": ..., "therapist": ...}]``;
- ``prompt`` / ``response`` (``completion``, ``output``, ``answer`` accepted for the response,
  ``question``, ``input``, ``context`` for the prompt);
- ``instruction`` / ``input`` / ``output`` (Alpaca): the user turn is instruction + input;
- ``prompt`` / ``chosen`` / ``rejected``: preference pairs (DPO), read by the preference builder.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from harness.errors import ConfigError

Row = dict[str, Any]
Messages = list[dict[str, str]]
FORMATS = ("auto", "json", "jsonl", "csv", "parquet", "hf_disk")
# Speaker names in turn pairs and ShareGPT turns -> chat roles (a config's ``roles:`` adds more).
SPEAKERS = {
    "user": "user", "human": "user", "client": "user", "patient": "user", "person": "user", "seeker": "user",
    "assistant": "assistant", "gpt": "assistant", "bot": "assistant", "model": "assistant",
    "therapist": "assistant", "counselor": "assistant", "counsellor": "assistant", "supporter": "assistant",
    "doctor": "assistant", "system": "system",
}
PROMPT_KEYS = ("prompt", "question", "input", "context", "query")
RESPONSE_KEYS = ("response", "completion", "output", "answer")


# ----------------------------------------------------------------------------- files -> rows


def detect_format(path: Path) -> str:
    """The reader for a path, from its suffix (a .json holding JSON lines, or a .jsonl holding one
    JSON array, is read by what it contains)."""
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
            return "hf_disk"
        raise ConfigError(f"{path}: a folder that is not a `datasets.save_to_disk` folder "
                          "(no dataset_info.json or dataset_dict.json)")
    suffix = path.suffix.lower()
    if suffix in {".csv", ".tsv"}:
        return "csv"
    if suffix in {".parquet", ".pq"}:
        return "parquet"
    if suffix in {".json", ".jsonl", ".ndjson"}:
        with path.open(encoding="utf-8-sig") as handle:
            head = handle.read(4096).lstrip()
        if head.startswith("[") or (suffix == ".json" and not _looks_like_json_lines(path)):
            return "json"
        return "jsonl"
    raise ConfigError(f"{path}: unknown data file type {suffix!r}",
                      hint=f"use .json, .jsonl, .csv, .parquet or a datasets folder, or set format: "
                           f"({', '.join(FORMATS)})")


def _looks_like_json_lines(path: Path) -> bool:
    lines = [ln for ln in path.read_text(encoding="utf-8-sig").splitlines() if ln.strip()]
    if len(lines) < 2:
        return False
    try:
        json.loads(lines[0])
    except json.JSONDecodeError:
        return False
    return True


def read_rows(path: Path, fmt: str = "auto", split: str | None = None) -> Iterator[tuple[str, Row]]:
    """(location, row) for each record of a data file or ``datasets`` folder."""
    if not path.exists():
        raise ConfigError(f"{path}: not found")
    fmt = detect_format(path) if fmt == "auto" else fmt
    readers = {"json": _read_json, "jsonl": _read_jsonl, "csv": _read_csv, "parquet": _read_parquet}
    if fmt == "hf_disk":
        yield from _read_hf_disk(path, split)
    elif fmt in readers:
        yield from readers[fmt](path)
    else:
        raise ConfigError(f"{path}: unknown format {fmt!r} (known: {', '.join(FORMATS)})")


def _read_jsonl(path: Path) -> Iterator[tuple[str, Row]]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: invalid JSON: {exc.msg} (column {exc.colno})",
                                  hint="one JSON object per line; a file holding one JSON array is read as JSON "
                                       "when it starts with '['") from None
            if not isinstance(obj, dict):
                raise ConfigError(f"{path}:{number}: expected a JSON object, got {type(obj).__name__}")
            yield f"{path}:{number}", obj


def _read_json(path: Path) -> Iterator[tuple[str, Row]]:
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})") from None
    if isinstance(data, dict):
        lists = [k for k in ("data", "rows", "examples", "train", "records") if isinstance(data.get(k), list)]
        if not lists:
            raise ConfigError(f"{path}: expected a JSON array of records, or an object with a 'data' list "
                              f"(found keys: {', '.join(list(data)[:8])})")
        data = data[lists[0]]
    if not isinstance(data, list):
        raise ConfigError(f"{path}: expected a JSON array of records, got {type(data).__name__}")
    for index, obj in enumerate(data, start=1):
        if not isinstance(obj, dict):
            raise ConfigError(f"{path}: item {index}: expected a JSON object, got {type(obj).__name__}")
        yield f"{path}: item {index}", obj


def _read_csv(path: Path) -> Iterator[tuple[str, Row]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        if not reader.fieldnames:
            raise ConfigError(f"{path}:1: empty CSV (expected a header row)")
        start = 2
        for row in reader:
            yield f"{path}:{start}", {k: v for k, v in row.items() if k is not None}
            start = reader.line_num + 1


def _read_parquet(path: Path) -> Iterator[tuple[str, Row]]:
    import pyarrow.parquet as pq

    for index, row in enumerate(pq.read_table(path).to_pylist(), start=1):
        yield f"{path}: row {index}", row


def _read_hf_disk(path: Path, split: str | None) -> Iterator[tuple[str, Row]]:
    from datasets import DatasetDict, load_from_disk

    data = load_from_disk(str(path))
    if isinstance(data, DatasetDict):
        chosen = split or ("train" if "train" in data else None)
        if chosen not in data:
            raise ConfigError(f"{path}: field 'split': {split!r} is not a split of this dataset "
                              f"(splits: {', '.join(data)})")
        data, where = data[chosen], f"{path} [{chosen}]"
    else:
        where = str(path)
    for index, row in enumerate(data, start=1):
        yield f"{where}: row {index}", dict(row)


# ----------------------------------------------------------------------------- rows -> messages


def rename_columns(row: Row, columns: Mapping[str, str], where: str) -> Row:
    """``columns: {harness name: your column}``, e.g. ``{prompt: Context, response: Response}``."""
    if not columns:
        return row
    out = dict(row)
    for field, source in columns.items():
        if source not in row:
            raise ConfigError(f"{where}: column {source!r} (columns.{field}) is missing; "
                              f"the row has: {', '.join(map(str, row))}")
        out[field] = row[source]
    return out


def _text(value: Any, where: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: field '{field}': expected non-empty text, got {value!r:.60}")
    return value.strip()


def _role(name: Any, roles: Mapping[str, str], where: str) -> str:
    key = str(name).strip().lower()
    role = roles.get(str(name)) or roles.get(key) or SPEAKERS.get(key)
    if role not in {"system", "user", "assistant"}:
        raise ConfigError(f"{where}: speaker {name!r} is not a known role",
                          hint=f"map it with roles: {{{name}: user|assistant}} (known: {', '.join(sorted(SPEAKERS))})")
    return role


def turns_to_messages(turns: Any, where: str, field: str, roles: Mapping[str, str]) -> Messages:
    """``[{"role", "content"}]``, ``[{"from", "value"}]`` or turn pairs ``[{"user": .., "therapist": ..}]``."""
    if not isinstance(turns, list) or not turns:
        raise ConfigError(f"{where}: field '{field}': expected a non-empty list of turns")
    messages: Messages = []
    for index, turn in enumerate(turns):
        at = f"{where}: field '{field}.{index}'"
        if not isinstance(turn, dict):
            raise ConfigError(f"{at}: expected an object, got {type(turn).__name__}")
        if "role" in turn or "from" in turn:
            speaker = turn.get("role", turn.get("from"))
            content = turn.get("content", turn.get("value"))
            messages.append({"role": _role(speaker, roles, at), "content": _text(content, at, "content")})
            continue
        pair = [(k, v) for k, v in turn.items() if v not in (None, "")]
        if not pair:
            raise ConfigError(f"{at}: empty turn")
        ordered = sorted(pair, key=lambda kv: {"system": 0, "user": 1, "assistant": 2}[_role(kv[0], roles, at)])
        for speaker, content in ordered:
            messages.append({"role": _role(speaker, roles, at), "content": _text(content, at, speaker)})
    return messages


def row_to_messages(row: Row, where: str, roles: Mapping[str, str] | None = None) -> Messages:
    """One SFT example as chat messages; the shape is read from the row's keys."""
    roles = roles or {}
    for key in ("messages", "conversations", "conversation", "dialog", "turns"):
        if key in row and row[key] is not None:
            value = row[key]
            if isinstance(value, str):
                try:
                    value = json.loads(value)  # CSV and Parquet often hold the list as JSON text
                except json.JSONDecodeError:
                    raise ConfigError(f"{where}: field '{key}': expected a list of turns or its JSON text") from None
            messages = turns_to_messages(value, where, key, roles)
            break
    else:
        messages = _single_turn(row, where)
    if isinstance(row.get("system"), str) and row["system"].strip() and messages[0]["role"] != "system":
        messages.insert(0, {"role": "system", "content": row["system"].strip()})
    if messages[-1]["role"] != "assistant" or not any(m["role"] == "user" for m in messages):
        raise ConfigError(f"{where}: a training example needs a user turn and must end with an assistant turn "
                          f"(roles here: {', '.join(m['role'] for m in messages)})")
    return messages


def _single_turn(row: Row, where: str) -> Messages:
    if "instruction" in row:
        instruction = _text(row["instruction"], where, "instruction")
        extra = row.get("input")
        user = f"{instruction}\n\n{extra.strip()}" if isinstance(extra, str) and extra.strip() else instruction
        response_key = next((k for k in RESPONSE_KEYS if k in row), "output")
        return [{"role": "user", "content": user},
                {"role": "assistant", "content": _text(row.get(response_key), where, response_key)}]
    prompt_key = next((k for k in PROMPT_KEYS if k in row), None)
    response_key = next((k for k in RESPONSE_KEYS if k in row and k != prompt_key), None)
    if prompt_key is None or response_key is None:
        raise ConfigError(
            f"{where}: no known shape in fields {', '.join(map(str, row))}",
            hint="expected messages, conversations, prompt/response, instruction/input/output (or map your "
                 "columns with columns: {prompt: <your column>, response: <your column>}); see docs/data-formats.md",
        )
    return [{"role": "user", "content": _text(row[prompt_key], where, prompt_key)},
            {"role": "assistant", "content": _text(row[response_key], where, response_key)}]
