"""Fixtures for the playground: a small candidates config on the fixture suite, a headless
Chromium (skipped cleanly when absent), and a helper that serves the app on a free port."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def playground_config(tmp_path: Path) -> Path:
    """Two candidates on the embedded model (16 new tokens) over the mini fixture suite."""
    path = tmp_path / "playground.yaml"
    path.write_text(
        "name: playground-test\n"
        f"suites_dir: {FIXTURES / 'suites'}\n"
        "suites:\n  - mini/v1\n"
        "candidates:\n"
        "  - name: base\n    params: {max_new_tokens: 16}\n"
        "  - name: terse\n    system: Reply with one short sentence.\n    params: {max_new_tokens: 16}\n"
    )
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[Any, str]]]:
    """``serve(store, config, auth) -> (app, url)``; every app still running is closed at teardown."""
    from harness.playground.app import build_app

    running: list[Any] = []

    def start(store_path: Path, config: Path, auth: Any = None) -> tuple[Any, str]:
        app = build_app(store_path, config, auth)
        port = free_port()
        app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
        running.append(app)
        return app, f"http://127.0.0.1:{port}/"

    yield start
    for app in running:
        app.close()


@pytest.fixture(scope="session")
def tiny_models(tiny_gpt2: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three tiny GPT-2s with different random weights (different texts; milliseconds per token)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("tiny_gpt2_pg", Path(__file__).resolve().parents[1] / "tiny_gpt2.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    others = [module.build_tiny_gpt2(tmp_path_factory.mktemp(f"tiny-{seed}") / "model", seed=seed) for seed in (1, 2)]
    return [tiny_gpt2, *others]


@pytest.fixture
def four_config(tmp_path: Path, tiny_models: list[Path]) -> Path:
    """Five candidates on tiny GPT-2s over a copy of the mini suite whose m-1 carries a risk tag.

    bravo is alpha with another sampling seed under greedy decoding: the same text, a different
    candidate (what the playground must collapse). The first four (the blind study's default) differ."""
    import json

    suites = tmp_path / "suites" / "mini" / "v1"
    suites.mkdir(parents=True)
    source = FIXTURES / "suites" / "mini" / "v1"
    (suites / "suite.yaml").write_text((source / "suite.yaml").read_text())
    cases = [json.loads(line) for line in (source / "cases.jsonl").read_text().splitlines() if line.strip()]
    cases[0]["tags"] = ["risk:sleep-crisis-tag"]
    (suites / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases))
    one, two, three = tiny_models
    path = tmp_path / "four.yaml"
    path.write_text(
        f"name: four\nsuites_dir: {tmp_path / 'suites'}\nsuites:\n  - mini/v1\ncandidates:\n"
        f"  - name: alpha\n    model: {one}\n    params: {{max_new_tokens: 8}}\n"
        f"  - name: charlie\n    model: {two}\n    safety_guard: true\n    params: {{max_new_tokens: 8}}\n"
        f"  - name: delta\n    model: {three}\n    params: {{max_new_tokens: 8}}\n"
        f"  - name: echo\n    model: {one}\n    system: Reply in one short sentence.\n"
        "    params: {max_new_tokens: 8}\n"
        f"  - name: bravo\n    model: {one}\n    params: {{max_new_tokens: 8, seed: 1}}\n"
    )
    return path
