"""Fixtures for RAG tests: synthetic discharge notes and one MiniLM encoder per session."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


def load_synthetic() -> ModuleType:
    """tests/rag/synthetic_discharge.py, loaded by path so any pytest import mode finds it."""
    path = Path(__file__).with_name("synthetic_discharge.py")
    spec = importlib.util.spec_from_file_location("synthetic_discharge", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def synthetic() -> ModuleType:
    return load_synthetic()


@pytest.fixture(scope="session")
def minilm_encoder():  # -> harness.rag.Encoder
    """The embedded all-MiniLM-L6-v2, loaded once; tests share it through ``Retriever(encoder=...)``."""
    import torch

    from harness.rag import Encoder

    torch.set_num_threads(1)
    encoder = Encoder(batch_size=16)
    _ = encoder.model
    return encoder
