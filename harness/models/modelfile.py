"""Ollama Modelfiles: parse, write back and map onto the harness's generation settings.

A Modelfile is how a prompt configuration (system prompt, few-shot turns, decoding
parameters, LoRA adapter) travels between this harness and Ollama. The same file drives
an Ollama run (``ollama create -f``) and a transformers run, so both must read it alike.

The grammar follows Ollama's own parser (``parser/parser.go``) and ``docs/modelfile.md``:

- ``INSTRUCTION value`` per line; instructions are case-insensitive, parameter keys and
  MESSAGE roles are not (Ollama rejects ``Temperature`` and ``User``).
- ``#`` starts a comment only at the start of a line; blank lines are ignored.
- A value is the rest of the line, stripped. ``"..."`` and triple double quotes quote it; a quoted
  value ends at the first line end where the text so far closes the quote, so it may span
  lines, contain blank lines, ``#`` lines and quotes. No escape sequences exist.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.models.modelfile_params import (  # parameters and value parsing; names re-exported here
    _PARAM_KEY_RE,
    _SEMVER_RE,
    _SINGLE_VALUED,
    _USAGE,
    _WORD_RE,
    CHATML_STOP,
    CHATML_TEMPLATE,
    DOCUMENTED_PARAMETERS,  # noqa: F401  (re-exported)
    INSTRUCTIONS,
    MESSAGE_ROLES,
    PARAMETER_TYPES,
    ParamValue,
    _coerce_param,
    _error,
    _parse_param,
    _read_value,
    _unknown_parameter_message,
)
from harness.yamlio import decode_text


@dataclass
class Modelfile:
    """A parsed Modelfile. Equality ignores comments and layout, so it tests round-trips."""

    from_: str
    system: str | None = None
    template: str | None = None
    parameters: list[tuple[str, ParamValue]] = field(default_factory=list)
    messages: list[tuple[str, str]] = field(default_factory=list)
    adapters: list[str] = field(default_factory=list)
    license: list[str] = field(default_factory=list)
    requires: str | None = None
    draft: str | None = None
    renderer: str | None = None
    parser: str | None = None
    source: str = field(default="<string>", compare=False, repr=False)

    def param(self, key: str, default: ParamValue | None = None) -> ParamValue | None:
        """The value of a single-valued parameter (``stop`` is a list: use ``stop``)."""
        for name, value in self.parameters:
            if name == key:
                return value
        return default

    @property
    def stop(self) -> list[str]:
        """All stop sequences in file order (the one parameter that may repeat)."""
        return [str(value) for name, value in self.parameters if name == "stop"]

    def ollama_options(self) -> dict[str, Any]:
        """All parameters as the ``options`` dict of Ollama's chat/generate API."""
        options: dict[str, Any] = {}
        for name, value in self.parameters:
            if name == "stop":
                options.setdefault("stop", []).append(value)
            else:
                options[name] = value
        return options

    def to_generation_params(self) -> dict[str, Any]:
        """The parameters the harness's ``GenerationParams`` understands, under its names.

        Only keys the Modelfile sets are returned (so they can override suite defaults).
        ``num_predict`` <= 0 (Ollama's "unlimited"/"fill context") sets no token limit.
        """
        renames = {
            "temperature": "temperature",
            "top_p": "top_p",
            "top_k": "top_k",
            "min_p": "min_p",
            "num_predict": "max_new_tokens",
            "repeat_penalty": "repetition_penalty",
            "seed": "seed",
        }
        params: dict[str, Any] = {}
        for name, value in self.parameters:
            if name in renames and not (name == "num_predict" and int(value) <= 0):
                params[renames[name]] = value
        if self.stop:
            params["stop"] = self.stop
        return params

    def chat_prefix(self) -> list[dict[str, str]]:
        """SYSTEM then the MESSAGE turns: what Ollama puts before the caller's messages."""
        prefix = [{"role": "system", "content": self.system}] if self.system else []
        return prefix + [{"role": role, "content": content} for role, content in self.messages]

    def content_hash(self) -> str:
        """sha256 of the canonical text: layout and comments don't change a fingerprint."""
        return hashlib.sha256(dump_modelfile(self).encode("utf-8")).hexdigest()


def load_modelfile(path: str | Path) -> Modelfile:
    """Read and parse a Modelfile; errors name the file and line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read Modelfile: {exc}") from None
    # Like Ollama, honour a UTF-16 byte-order mark (Windows editors and PowerShell write one).
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not valid UTF-16 text: {exc}; expected a UTF-8 Modelfile") from None
    else:
        text = decode_text(data, path, "Modelfile text")
    return parse_modelfile(text, source=str(path))


def parse_modelfile(text: str, source: str = "<string>") -> Modelfile:
    """Parse Modelfile text; any problem raises ConfigError ``source:line: what was expected``."""
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    mf = Modelfile(from_="", source=source)
    first_seen: dict[str, int] = {}
    seen_params: dict[str, int] = {}
    index = 0
    while index < len(lines):
        lineno = index + 1
        line = lines[index].lstrip(" \t")
        if not line.strip() or line.startswith("#"):
            index += 1
            continue

        fail = functools.partial(_error, source, lineno)

        word = _WORD_RE.match(line)
        name = word.group(0) if word else ""
        rest = line[len(name) :]
        if name.upper() not in INSTRUCTIONS or (rest and rest[0] not in " \t"):
            token = line.split(None, 1)[0]
            raise fail(f"unknown instruction {token!r}; expected one of {', '.join(INSTRUCTIONS)}")
        instruction = name.lower()
        rest = rest.lstrip(" \t")
        if not rest.strip():
            raise fail(f"{name.upper()} needs a value; expected '{name.upper()} {_USAGE[instruction]}'")
        if instruction in _SINGLE_VALUED:
            if instruction in first_seen:
                raise fail(
                    f"{name.upper()} given twice (first on line {first_seen[instruction]}); "
                    f"expected at most one {name.upper()}"
                )
            first_seen[instruction] = lineno

        if instruction == "parameter":
            key, after = _parameter_key(rest, seen_params, lineno, fail)
            raw, index = _read_value(lines, index, after, source)
            mf.parameters.append((key, _parse_param(key, raw, source, lineno)))
            continue

        if instruction == "message":
            role, after = _message_role(rest, fail)
            content, index = _read_value(lines, index, after, source)
            if not content:
                raise fail(f"MESSAGE {role} has empty text; expected the {role}'s words")
            mf.messages.append((role, content))
            continue

        value, index = _read_value(lines, index, rest, source)
        _set_instruction(mf, instruction, value, fail)

    if not mf.from_:
        last = len(lines) - 1 if len(lines) > 1 and not lines[-1] else len(lines)
        raise _error(
            source, last, "reached the end without a FROM instruction; expected a line such as 'FROM smollm2:135m'"
        )
    return mf


def _parameter_key(rest: str, seen: dict[str, int], lineno: int, fail: Any) -> tuple[str, str]:
    """The PARAMETER line's key (checked: known, valued, not repeated unless 'stop') and what follows it."""
    key_match = _PARAM_KEY_RE.match(rest)
    key = key_match.group(0) if key_match else ""
    after = rest[len(key) :]
    if not key or (after and after[0] not in " \t"):
        token = rest.split(None, 1)[0]
        raise fail(f"malformed PARAMETER {token!r}; expected 'PARAMETER {_USAGE['parameter']}'")
    if key not in PARAMETER_TYPES:
        raise fail(_unknown_parameter_message(key))
    if not after.strip():
        raise fail(f"parameter {key} needs a value; expected 'PARAMETER {key} <value>'")
    if key != "stop" and key in seen:
        raise fail(
            f"parameter {key} set twice (first on line {seen[key]}); "
            "expected each parameter once (only 'stop' may repeat)"
        )
    seen[key] = lineno
    return key, after


def _message_role(rest: str, fail: Any) -> tuple[str, str]:
    """The MESSAGE line's role (checked) and the text after it."""
    role_match = _WORD_RE.match(rest)
    role = role_match.group(0) if role_match else ""
    after = rest[len(role) :]
    if role in MESSAGE_ROLES and not after.strip():
        raise fail(f"MESSAGE {role} needs text; expected 'MESSAGE {role} <text>'")
    if role not in MESSAGE_ROLES or after[0] not in " \t":
        token = rest.split(None, 1)[0]
        raise fail(
            f"bad MESSAGE role {token!r}; expected one of {', '.join(MESSAGE_ROLES)} "
            f"(lowercase) as in 'MESSAGE {_USAGE['message']}'"
        )
    return role, after


def _set_instruction(mf: Modelfile, instruction: str, value: str, fail: Any) -> None:
    """FROM, ADAPTER, LICENSE, REQUIRES and the text instructions, checked and set on ``mf``."""
    if instruction == "from":
        if not value.strip():
            raise fail("FROM is empty; expected a model name such as 'smollm2:135m' or a path")
        mf.from_ = value
    elif instruction == "adapter":
        if not value.strip():
            raise fail("ADAPTER is empty; expected a path to a LoRA adapter")
        mf.adapters.append(value)
    elif instruction == "license":
        mf.license.append(value)
    elif instruction == "requires":
        if not _SEMVER_RE.fullmatch(value):
            raise fail(f"REQUIRES {value!r} is not a version; expected e.g. 'REQUIRES 0.14.0'")
        mf.requires = value
    else:  # template, system, draft, renderer, parser
        setattr(mf, instruction, value)


def _format_param(key: str, value: ParamValue) -> str:
    kind = PARAMETER_TYPES.get(key)
    if kind is None:
        raise ValueError(f"unknown parameter {key!r}")
    if kind is bool and isinstance(value, bool):
        return "true" if value else "false"
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"parameter {key} must be finite, got {value!r}")
        return repr(float(value))
    if kind is str and isinstance(value, str) and value:
        return _quote(value, bare=False)  # stop sequences read best quoted, as Ollama writes them
    raise ValueError(f"parameter {key} expects {kind.__name__}, got {value!r}")


def _reads_back(written: str) -> str | None:
    """What the parser would read from ``written`` as an instruction's value, if complete."""
    lines = written.split("\n")
    try:
        value, end = _read_value(lines, 0, lines[0], "<dump>")
    except ConfigError:
        return None
    return value if end == len(lines) else None


def _quote(value: str, bare: bool = True) -> str:
    """Canonical spelling: bare if safe (and ``bare``), triple quotes for newlines or quotes, else ``"``."""
    if "\r" in value:
        raise ValueError(f"values cannot contain carriage returns: {value!r}")
    if bare and value and value == value.strip() and "\n" not in value and '"' not in value:
        candidates = [value]
    elif "\n" in value or '"' in value:
        candidates = [f'"""{value}"""', f'"{value}"']
    else:
        candidates = [f'"{value}"', f'"""{value}"""']
    for candidate in candidates:
        if _reads_back(candidate) == value:
            return candidate
    raise ValueError(f"value cannot be written in a Modelfile (a line inside ends with quotes): {value!r}")


def dump_modelfile(mf: Modelfile, header: str | None = None) -> str:
    """Canonical Modelfile text; ``parse_modelfile(dump_modelfile(mf)) == mf``.

    ``header`` becomes ``#`` comment lines on top (not part of the content hash).
    Raises ValueError for a Modelfile that cannot be written faithfully.
    """
    if not mf.from_ or not mf.from_.strip():
        raise ValueError("a Modelfile needs FROM")
    out: list[str] = []
    if header:
        out += [f"# {line}".rstrip() for line in header.splitlines()]
    out.append(f"FROM {_quote(mf.from_)}")
    out += [f"ADAPTER {_quote(path)}" for path in mf.adapters]
    for name in ("draft", "requires", "renderer", "parser", "template", "system"):
        value = getattr(mf, name)
        if value is not None:
            out.append(f"{name.upper()} {_quote(value)}")
    out += [f"PARAMETER {key} {_format_param(key, value)}" for key, value in mf.parameters]
    for role, content in mf.messages:
        if role not in MESSAGE_ROLES or not content:
            raise ValueError(f"bad message ({role!r}, {content!r})")
        out.append(f"MESSAGE {role} {_quote(content)}")
    out += [f"LICENSE {_quote(text)}" for text in mf.license]
    return "\n".join(out) + "\n"


def modelfile_for_adapter(
    base_from: str,
    adapter_path: str,
    template: str | None = CHATML_TEMPLATE,
    stop: Iterable[str] = CHATML_STOP,
    system: str | None = None,
    params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
) -> Modelfile:
    """A Modelfile serving a LoRA adapter on its base model, as ``ollama create`` wants it.

    ``params`` are Ollama parameter names (``num_predict``, not ``max_new_tokens``);
    a ``stop`` in them is merged with ``stop`` (duplicates dropped, order kept).
    """
    source = "modelfile_for_adapter"
    if not base_from.strip():
        raise ConfigError(f"{source}: base_from is empty; expected the base model's Ollama tag or path")
    if not adapter_path.strip():
        raise ConfigError(f"{source}: adapter_path is empty; expected the adapter's path")
    items = list(params.items() if isinstance(params, Mapping) else params or [])
    parameters: list[tuple[str, ParamValue]] = []
    stops: list[str] = []
    seen: set[str] = set()
    for key, value in items:
        if key == "stop":
            stops += [value] if isinstance(value, str) else list(value)
            continue
        if key in seen:
            raise ConfigError(f"{source}: parameter {key} given twice; expected it once")
        seen.add(key)
        parameters.append((key, _coerce_param(key, value, source)))
    for token in [*stop, *stops]:
        checked = _coerce_param("stop", token, source)
        if ("stop", checked) not in parameters:
            parameters.append(("stop", checked))
    return Modelfile(
        from_=base_from,
        adapters=[adapter_path],
        template=template,
        system=system,
        parameters=parameters,
        source=source,
    )
