"""Fixtures for the variant tests: a tiny template-less GPT-2 built offline."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def _load_builder():  # by path: tests/ is not a package
    spec = importlib.util.spec_from_file_location("tiny_gpt2", Path(__file__).parents[1] / "tiny_gpt2.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_tiny_gpt2


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _load_builder()(tmp_path_factory.mktemp("tiny-gpt2") / "model")
