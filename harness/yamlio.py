"""YAML and JSONL loading that keeps line numbers, so validation errors can point at them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import ConfigError, HarnessError

M = TypeVar("M", bound=BaseModel)


class LocatedYaml:
    """Parsed YAML plus a map from key paths to 1-based line numbers."""

    def __init__(self, path: Path, data: Any, lines: dict[tuple[Any, ...], int]) -> None:
        self.path = path
        self.data = data
        self._lines = lines

    def line_of(self, loc: Sequence[Any]) -> int | None:
        """Line of the deepest known prefix of ``loc`` (pydantic error locations)."""
        loc = tuple(loc)
        while loc:
            if loc in self._lines:
                return self._lines[loc]
            loc = loc[:-1]
        return self._lines.get((), None)


def _walk(node: yaml.Node, prefix: tuple[Any, ...], lines: dict[tuple[Any, ...], int], seen: set[int]) -> None:
    lines[prefix] = node.start_mark.line + 1
    if id(node) in seen:  # an alias: its lines were recorded where the anchor is
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*prefix, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*prefix, key), lines, seen)
            lines[(*prefix, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*prefix, index), lines, seen)


# Guards against hostile or broken YAML: an "alias bomb" (a few lines whose aliases expand to
# billions of nodes) is rejected in milliseconds instead of exhausting time and memory.
MAX_YAML_BYTES = 10 * 1024 * 1024
MAX_YAML_NODES = 200_000


def decode_text(data: bytes, path: Path, what: str = "text") -> str:
    """UTF-8 text (a BOM is allowed); anything else is a ConfigError naming the line and byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            f"{path}:{line}: not valid UTF-8 {what} (byte 0x{data[exc.start]:02x} at column {column});"
            " save the file as UTF-8"
        ) from None


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes the document expands to, aliases counted every time they are used (memoised: linear)."""
    key = id(node)
    if key not in memo:
        memo[key] = 0  # a recursive alias counts once; the limit below catches growth
        if isinstance(node, yaml.MappingNode):
            size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(_expanded_size(item, memo) for item in node.value)
        else:
            size = 1
        memo[key] = min(size, MAX_YAML_NODES + 1)
    return memo[key]


def load_yaml(path: Path) -> LocatedYaml:
    """Load a YAML file; malformed YAML becomes a ConfigError naming file and line."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; expected a YAML file")
    if path.stat().st_size > MAX_YAML_BYTES:
        raise ConfigError(f"{path}: {path.stat().st_size} bytes is too large for a YAML config"
                          f" (limit {MAX_YAML_BYTES // (1024 * 1024)} MB)")
    text = decode_text(path.read_bytes(), path, "YAML")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None and _expanded_size(node, {}) > MAX_YAML_NODES:
            raise ConfigError(f"{path}: YAML expands to more than {MAX_YAML_NODES} nodes (an alias bomb?);"
                              " write the values out instead of nesting aliases")
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        raise ConfigError(f"{path}: malformed YAML at {where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: malformed YAML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: YAML nested too deeply") from None
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _walk(node, (), lines, set())
    return LocatedYaml(path, data if data is not None else {}, lines)


def load_yaml_config(path: Path | str, expected: str) -> LocatedYaml:
    """A config YAML file holding a mapping; ``expected`` names it in the error
    (e.g. "an experiment YAML file (configs/experiments/<name>.yaml)")."""
    path = Path(path)
    if path.is_dir() or path.suffix not in {".yaml", ".yml"}:
        raise ConfigError(f"{path}: expected {expected}")
    located = load_yaml(path)
    if not isinstance(located.data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(located.data).__name__}")
    return located


def config_location(path: str | Path | None, *prefix: Any) -> Callable[..., str]:
    """``where(field, top=False)`` -> ``"file:line: field 'suites.0.case_ids'"`` for errors found after
    validation (the line is looked up in the YAML file when there is one)."""
    located: LocatedYaml | None = None
    if path is not None and Path(path).suffix in {".yaml", ".yml"} and Path(path).is_file():
        try:
            located = load_yaml(Path(path))
        except ConfigError:
            located = None

    def where(field: str | None, top: bool = False) -> str:
        """``file:line: field 'a.b'``; ``field=None`` gives just ``file:line`` of the prefix."""
        loc = (field,) if top else (*prefix, *([field] if field is not None else []))
        line = located.line_of(loc) if located is not None else None
        source = str(path) if path is not None else "experiment config"
        place = f"{source}{f':{line}' if line else ''}"
        return place if field is None else f"{place}: field '{'.'.join(str(p) for p in loc)}'"

    return where


def with_location(exc: HarnessError, place: str) -> HarnessError:
    """The same error, its message prefixed with ``place`` (``file:line``) unless it names a file already."""
    if str(exc).startswith(place.split(":")[0]):
        return exc
    return type(exc)(f"{place}: {exc}", hint=exc.hint)


def format_validation_error(
    exc: ValidationError, path: Path, line_of: Any = None, *, line: int | None = None, data: Any = None
) -> str:
    """One readable line per problem: ``file:line: field: message (got ...)``.

    With ``data`` (the parsed YAML) locations are mapped back onto the YAML's own keys: pydantic's
    union tags (``stages.0.sft.phases``) are dropped and a bad ``kind``/``type`` discriminator points at
    that key. The one formatter for every YAML config (experiments, suites, training configs).
    """
    parts = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        named = line_loc = loc
        hidden: tuple[type, ...] = (dict,)
        if data is not None:
            if err["type"] in {"union_tag_invalid", "union_tag_not_found"}:
                loc.append(err.get("ctx", {}).get("discriminator", "").strip("'") or "kind")
            line_loc = yaml_location(data, loc)
            named = [*line_loc, loc[-1]] if err["type"] == "missing" and loc else line_loc
            hidden = (dict, list)
        field = ".".join(str(p) for p in named) or "(top level)"
        where_line = line if line is not None else (line_of(line_loc) if line_of else None)
        where = f"{path}:{where_line}" if where_line else f"{path}"
        got = err.get("input")
        got_text = ""
        if err["type"] != "missing" and got is not None and not isinstance(got, hidden):
            got_text = f" (got {repr(got)[:80]})"
        parts.append(f"{where}: field '{field}': {err['msg']}{got_text}")
    return "\n".join(parts)


def yaml_location(data: Any, loc: list[Any]) -> list[Any]:
    """The part of a pydantic error location that names keys of the YAML ``data`` (union tags dropped)."""
    out: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif isinstance(node, dict | list):
            continue  # a union tag or a missing key: keep walking with the same node
        else:
            break
    return out


def validate_yaml_model(model: type[M], located: LocatedYaml) -> M:
    """Validate parsed YAML against a pydantic model, with file and line in the error."""
    try:
        return model.model_validate(located.data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, located.path, located.line_of)) from None


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) pairs; blank lines are skipped, bad JSON names its line."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    with path.open("rb") as handle:
        for number, raw_bytes in enumerate(handle, start=1):
            try:
                raw = raw_bytes.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ConfigError(f"{path}:{number}: not valid UTF-8 (byte 0x{raw_bytes[exc.start]:02x} at column"
                                  f" {exc.start + 1}); save the file as UTF-8") from None
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: invalid JSON: {exc.msg} (column {exc.colno})") from None
            if not isinstance(obj, dict):
                raise ConfigError(f"{path}:{number}: expected a JSON object, got {type(obj).__name__}")
            yield number, obj
