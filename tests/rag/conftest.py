"""Fixtures for RAG tests: one MiniLM encoder per session (synthetic discharge notes: tests/conftest.py)."""

from __future__ import annotations

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
