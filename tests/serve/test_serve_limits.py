"""Serve limits from a YAML file and CLI options: defaults, overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.serve import ServeLimits, load_limits


def test_defaults_file_and_overrides(tmp_path: Path) -> None:
    assert load_limits(None) == ServeLimits()
    path = tmp_path / "limits.yaml"
    path.write_text("max_tokens: 64\nmax_queue: 8\n")
    limits = load_limits(path, max_queue=4, max_batch=None)
    assert (limits.max_tokens, limits.max_queue, limits.max_batch) == (64, 4, ServeLimits().max_batch)


@pytest.mark.parametrize(("text", "needle"), [
    ("max_tokens: 0\n", "limits.yaml:1: field 'max_tokens'"),
    ("max_tokenz: 5\n", "field 'max_tokenz'"),
    ("- 1\n", "mapping"),
])
def test_bad_limits_files_name_file_line_and_field(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "limits.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=needle):
        load_limits(path)


def test_bad_cli_override_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="max_queue"):
        load_limits(None, max_queue=0)
