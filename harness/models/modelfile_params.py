"""Modelfile parameters as Ollama defines them: the documented names and their types, value parsing, range
checks and the errors that name file and line. ``harness.models.modelfile`` parses and writes whole files.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from typing import Any

from harness.errors import ConfigError

ParamValue = int | float | bool | str

# Documented in Ollama's docs/modelfile.md "Valid Parameters and Values".
DOCUMENTED_PARAMETERS: dict[str, type] = {
    "num_ctx": int,
    "repeat_last_n": int,
    "repeat_penalty": float,
    "temperature": float,
    "seed": int,
    "stop": str,
    "num_predict": int,
    "draft_num_predict": int,
    "top_k": int,
    "top_p": float,
    "min_p": float,
}
# Accepted by Ollama's runtime ``Options`` (api/types.go) though missing from the table.
RUNTIME_PARAMETERS: dict[str, type] = {
    "num_keep": int,
    "typical_p": float,
    "presence_penalty": float,
    "frequency_penalty": float,
    "num_batch": int,
    "num_gpu": int,
    "main_gpu": int,
    "num_thread": int,
    "use_mmap": bool,
}
# Once documented; current Ollama warns and ignores them, but old Modelfiles still carry them.
DEPRECATED_PARAMETERS: dict[str, type] = {
    "mirostat": int,
    "mirostat_eta": float,
    "mirostat_tau": float,
    "tfs_z": float,
    "penalize_newline": bool,
    "num_gqa": int,
    "numa": bool,
    "low_vram": bool,
    "f16_kv": bool,
    "logits_all": bool,
    "vocab_only": bool,
    "use_mlock": bool,
}
PARAMETER_TYPES: dict[str, type] = {**DOCUMENTED_PARAMETERS, **RUNTIME_PARAMETERS, **DEPRECATED_PARAMETERS}
# Values a sampler can use: (lowest, highest, whether the lowest itself is allowed). A negative
# temperature or a top_p of 0 is an error at the line that sets it, not a traceback mid-run.
PARAMETER_RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    "temperature": (0.0, None, True),
    "top_p": (0.0, 1.0, False),
    "min_p": (0.0, 1.0, True),
    "typical_p": (0.0, 1.0, False),
    "top_k": (0.0, None, True),
    "repeat_penalty": (0.0, None, False),
    "num_ctx": (1.0, None, True),
    "repeat_last_n": (-1.0, None, True),
    "num_predict": (-2.0, None, True),
    "seed": (None, None, True),
}

MESSAGE_ROLES: tuple[str, ...] = ("system", "user", "assistant")

# Instructions Ollama's parser accepts. DRAFT/RENDERER/PARSER are undocumented but emitted by
# ``ollama show --modelfile`` for newer models, so rejecting them would reject real files.
INSTRUCTIONS: tuple[str, ...] = (
    "FROM",
    "PARAMETER",
    "TEMPLATE",
    "SYSTEM",
    "ADAPTER",
    "LICENSE",
    "MESSAGE",
    "REQUIRES",
    "DRAFT",
    "RENDERER",
    "PARSER",
)
_SINGLE_VALUED = ("from", "template", "system", "requires", "draft", "renderer", "parser")

# ChatML as SmolLM2 (and Qwen) were trained on it. Ollama passes SYSTEM as the first entry of
# .Messages, so ranging over .Messages alone renders system, few-shot and user turns in order.
CHATML_TEMPLATE = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n"
    "{{ .Content }}<|im_end|>\n"
    "{{ end }}<|im_start|>assistant\n"
)
CHATML_STOP: tuple[str, ...] = ("<|im_start|>", "<|im_end|>")

_INT_RE = re.compile(r"[+-]?\d+")
_FLOAT_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TRUE = frozenset({"1", "t", "T", "true", "TRUE", "True"})  # Go's strconv.ParseBool
_FALSE = frozenset({"0", "f", "F", "false", "FALSE", "False"})
_SEMVER_RE = re.compile(r"v?\d+(?:\.\d+(?:\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)?)?")
_WORD_RE = re.compile(r"[A-Za-z]+")
_PARAM_KEY_RE = re.compile(r"[A-Za-z0-9_]+")

_USAGE = {
    "from": "<model name or path>",
    "parameter": "<key> <value>",
    "template": '"""<Go template>"""',
    "system": '"""<system prompt>"""',
    "adapter": "<path to adapter>",
    "license": '"""<license text>"""',
    "message": "<system|user|assistant> <text>",
    "requires": "<ollama version>",
    "draft": "<draft model>",
    "renderer": "<renderer name>",
    "parser": "<parser name>",
}


def _unquote(text: str) -> tuple[bool, str]:
    """Ollama's rule: a value opening a quote is complete once it also ends with it."""
    if text.startswith('"""'):
        return (len(text) >= 6 and text.endswith('"""')), text[3:-3]
    if text.startswith('"'):
        return (len(text) >= 2 and text.endswith('"')), text[1:-1]
    return True, text


def _error(source: str, line: int | None, message: str) -> ConfigError:
    return ConfigError(f"{source}:{line}: {message}" if line else f"{source}: {message}")


def _read_value(lines: Sequence[str], index: int, first: str, source: str) -> tuple[str, int]:
    """Collect a value starting on ``lines[index]``; returns it and the next line's index."""
    start = index
    buffer = first
    while True:
        complete, value = _unquote(buffer.strip())
        if complete:
            return value, index + 1
        index += 1
        if index >= len(lines):
            quote = '"""' if buffer.strip().startswith('"""') else '"'
            raise _error(
                source, start + 1, f"unterminated {quote} value; expected a closing {quote} at the end of a later line"
            )
        buffer += "\n" + lines[index]


def _unknown_parameter_message(key: str) -> str:
    hint = ""
    if key.lower() in PARAMETER_TYPES:
        hint = f" (keys are lowercase: {key.lower()!r})"
    elif close := difflib.get_close_matches(key, list(PARAMETER_TYPES), n=1):
        hint = f" (did you mean {close[0]!r}?)"
    known = ", ".join(DOCUMENTED_PARAMETERS)
    return f"unknown parameter {key!r}{hint}; expected one of {known} or another Ollama option"


def _parse_param(key: str, raw: str, source: str, line: int | None) -> ParamValue:
    """Type a parameter's text the way Ollama's ``FormatParams`` does (Go strconv rules)."""
    kind = PARAMETER_TYPES[key]
    comment = " (comments must be on their own line)" if "#" in raw else ""
    if kind is int:
        if _INT_RE.fullmatch(raw):
            return _check_range(key, int(raw), source, line)
        raise _error(source, line, f"parameter {key} expects an integer, e.g. '{key} 40', got {raw!r}{comment}")
    if kind is float:
        if _FLOAT_RE.fullmatch(raw):
            return _check_range(key, float(raw), source, line)
        raise _error(source, line, f"parameter {key} expects a number, e.g. '{key} 0.7', got {raw!r}{comment}")
    if kind is bool:
        if raw in _TRUE or raw in _FALSE:
            return raw in _TRUE
        raise _error(source, line, f"parameter {key} expects true or false, got {raw!r}{comment}")
    if not raw:
        raise _error(source, line, f"parameter {key} is empty; expected a non-empty stop sequence such as '<|im_end|>'")
    return raw


def _check_range(key: str, value: ParamValue, source: str, line: int | None) -> ParamValue:
    if key not in PARAMETER_RANGES or isinstance(value, bool | str):
        return value
    low, high, low_ok = PARAMETER_RANGES[key]
    too_low = low is not None and (value < low or (value == low and not low_ok))
    if too_low or (high is not None and value > high) or not math.isfinite(value):
        bound = ">=" if low_ok else ">"
        wanted = f"{bound} {low:g}" if high is None else f"{bound} {low:g} and <= {high:g}"
        raise _error(source, line, f"parameter {key} must be {wanted}, got {value!r}")
    return value


def _coerce_param(key: str, value: Any, source: str) -> ParamValue:
    """Validate a parameter given from Python (not text), e.g. for LoRA export."""
    if key not in PARAMETER_TYPES:
        raise _error(source, None, _unknown_parameter_message(key))
    kind = PARAMETER_TYPES[key]
    if isinstance(value, str):
        return _parse_param(key, value if kind is str else value.strip(), source, None)
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return _check_range(key, value, source, None)
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return _check_range(key, float(value), source, None)
    raise _error(source, None, f"parameter {key} expects {kind.__name__}, got {value!r}")
