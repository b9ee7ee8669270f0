"""Fixtures for RAG tests: one MiniLM encoder per session (synthetic discharge notes: tests/conftest.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def minilm_encoder():  # -> harness.rag.Encoder
    """The embedded all-MiniLM-L6-v2, loaded once; tests share it through ``Retriever(encoder=...)``."""
    import torch

    from harness.rag import Encoder

    torch.set_num_threads(1)
    encoder = Encoder(batch_size=16)
    _ = encoder.model
    return encoder


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny template-less GPT-2 built offline (tests/tiny_gpt2.py), as a fast generator."""
    spec = importlib.util.spec_from_file_location("tiny_gpt2", Path(__file__).parents[1] / "tiny_gpt2.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2") / "model")
