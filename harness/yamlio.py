"""YAML and JSONL loading that keeps line numbers, so validation errors can point at them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import ConfigError

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


def _walk(node: yaml.Node, prefix: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> None:
    lines[prefix] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*prefix, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*prefix, key), lines)
            lines[(*prefix, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*prefix, index), lines)


def load_yaml(path: Path) -> LocatedYaml:
    """Load a YAML file; malformed YAML becomes a ConfigError naming file and line."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        raise ConfigError(f"{path}: malformed YAML at {where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: malformed YAML: {exc}") from None
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _walk(node, (), lines)
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


def format_validation_error(
    exc: ValidationError, path: Path, line_of: Any = None, *, line: int | None = None
) -> str:
    """One readable line per problem: ``file:line: field: message (got ...)``."""
    parts = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        field = ".".join(str(p) for p in loc) or "(top level)"
        where_line = line if line is not None else (line_of(loc) if line_of else None)
        where = f"{path}:{where_line}" if where_line else f"{path}"
        message = err["msg"]
        got = err.get("input")
        got_text = ""
        if err["type"] not in {"missing"} and got is not None and not isinstance(got, dict):
            shown = repr(got)
            got_text = f" (got {shown[:80]})"
        parts.append(f"{where}: field '{field}': {message}{got_text}")
    return "\n".join(parts)


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
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{number}: invalid JSON: {exc.msg} (column {exc.colno})") from None
            if not isinstance(obj, dict):
                raise ConfigError(f"{path}:{number}: expected a JSON object, got {type(obj).__name__}")
            yield number, obj
