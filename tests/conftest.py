"""Shared fixtures: an isolated HARNESS_HOME per test session that reuses the prepared
embedded model (converted once per machine, ~25 s), and the small fixture suite."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; tests never download a browser
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def prepared_llm_dir() -> Path:
    """The embedded SmolLM2 as safetensors in the user's real cache (prepared once)."""
    from harness.models.embedded import prepare_embedded_llm

    return prepare_embedded_llm()


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tests never touch the user's store; the prepared model is linked in, not converted again."""
    from harness.models.embedded import EMBEDDED_LLM, prepare_embedded_llm

    real_model = prepare_embedded_llm()
    home = tmp_path_factory.mktemp("harness-home")
    (home / "models").mkdir()
    (home / "models" / EMBEDDED_LLM).symlink_to(real_model, target_is_directory=True)
    old = os.environ.get("HARNESS_HOME")
    os.environ["HARNESS_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("HARNESS_HOME", None)
    else:
        os.environ["HARNESS_HOME"] = old


@pytest.fixture
def store(tmp_path: Path):
    from harness.store import Store

    with Store(tmp_path / "store.sqlite") as db:
        yield db


@pytest.fixture
def fixture_suites() -> Path:
    return FIXTURES / "suites"


def _load_by_path(name: str, path: Path) -> ModuleType:
    """A helper module of tests/ loaded by path (tests/ is not a package), so any pytest import mode finds it."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def synthetic() -> ModuleType:
    """tests/rag/synthetic_discharge.py (synthetic discharge suites); RAG and embedding tests share it."""
    return _load_by_path("synthetic_discharge", Path(__file__).parent / "rag" / "synthetic_discharge.py")


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny template-less GPT-2 built offline (tests/tiny_gpt2.py), built once per session as a fast base."""
    module = _load_by_path("tiny_gpt2", Path(__file__).parent / "tiny_gpt2.py")
    return module.build_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2") / "model")


@pytest.fixture
def mini_experiment(tmp_path: Path) -> Path:
    """A copy of the mini experiment config whose reports go to tmp_path."""
    text = (FIXTURES / "experiments" / "mini.yaml").read_text()
    text = text.replace("suites_dir: ../suites", f"suites_dir: {FIXTURES / 'suites'}")
    path = tmp_path / "mini.yaml"
    path.write_text(text + f"report_dir: {tmp_path / 'reports'}\n")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per module (report and playground tests); skipped when absent."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
