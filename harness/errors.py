"""User-facing errors: each names the file, field or line and what was expected.

The CLI turns every ``HarnessError`` into a one-paragraph message and exit code 2,
never a bare traceback.
"""

from __future__ import annotations


class HarnessError(Exception):
    """An error the user can act on (bad input, missing model, unreachable server)."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def render(self) -> str:
        text = str(self)
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ConfigError(HarnessError):
    """A config, suite or case file is malformed or names something unknown."""


class ModelNotFoundError(HarnessError):
    """A model id, path or Ollama tag cannot be found or loaded."""


class BackendUnavailableError(HarnessError):
    """A generation server (Ollama, OpenAI-compatible) cannot be reached."""


class DataLeakageError(HarnessError):
    """Training data overlaps evaluation (test) cases."""
