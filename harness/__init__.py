"""Evaluation-first experimentation harness for clinical and mental-health LLMs.

Data flows one way: configs -> candidates -> outputs -> scores -> store -> views.
Heavy libraries (torch, transformers, chromadb, gradio) are imported lazily inside the
functions that need them, so that ``harness --help`` and the light tests start fast.

Importing the package switches telemetry off and makes the model hub offline by default -- on
every path (CLI, ``pytest suites/``, library use) and before huggingface_hub, transformers, TRL,
Chroma or Gradio read their settings. A value the user set explicitly is never overridden, so
``HF_HUB_OFFLINE=0`` still allows hub downloads, while telemetry stays off unless the user turns it on.
This is the one place these defaults are set. The CPU thread defaults for shared runners
(``OMP_WAIT_POLICY=PASSIVE``) are applied here too, for the same reason: see ``harness.threads``.
"""

from __future__ import annotations

import os
import sys


def _version() -> str:
    """pyproject.toml is the one place the version is written: a clone reads it (the code that runs is the
    clone's, whatever is installed), an installed package reads its distribution metadata (built from it)."""
    import re
    from importlib.metadata import PackageNotFoundError, version
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8") if pyproject.exists() else ""
    if 'name = "harness-clinical"' in text and (found := re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)):
        return found.group(1)
    try:
        return version("harness-clinical")
    except PackageNotFoundError:
        return "0+unknown"


__version__ = _version()

PRIVACY_DEFAULTS: dict[str, str] = {
    "DO_NOT_TRACK": "1",  # the cross-tool convention (Gradio, many CLIs)
    "HF_HUB_DISABLE_TELEMETRY": "1",  # huggingface_hub / transformers / TRL usage reports
    "HF_HUB_OFFLINE": "1",  # no hub downloads unless the user sets HF_HUB_OFFLINE=0
    "ANONYMIZED_TELEMETRY": "False",  # ChromaDB
    "GRADIO_ANALYTICS_ENABLED": "False",  # Gradio
    "TOKENIZERS_PARALLELISM": "false",  # no fork warnings from the tokenizers thread pool
}


_FALSE = {"0", "false", "no", "off"}


def _apply_privacy_defaults() -> None:
    # DO_NOT_TRACK also switches hub telemetry off, so it is not defaulted when the user explicitly
    # turned hub telemetry on (HF_HUB_DISABLE_TELEMETRY=0): an explicit choice always wins.
    telemetry_opt_in = os.environ.get("HF_HUB_DISABLE_TELEMETRY", "").lower() in _FALSE
    for name, value in PRIVACY_DEFAULTS.items():
        if name == "DO_NOT_TRACK" and telemetry_opt_in:
            continue
        os.environ.setdefault(name, value)
    # huggingface_hub reads its switches once, at import: if a caller imported it before the
    # harness, carry the (still default) telemetry switch into the already-loaded constants.
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None and os.environ["HF_HUB_DISABLE_TELEMETRY"].lower() in {"1", "true", "yes", "on"}:
        constants.HF_HUB_DISABLE_TELEMETRY = True  # type: ignore[attr-defined]


_apply_privacy_defaults()


def _apply_runtime_defaults() -> None:
    # OpenMP's wait policy is read once, when torch loads: set it here, before anything imports torch.
    from harness.threads import apply_runtime_defaults

    apply_runtime_defaults()


_apply_runtime_defaults()
