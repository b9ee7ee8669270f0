"""Fuzz corpus: every malformed input in tests/fuzz/corpus/<kind>/ gets exit code 2, a message that
names the file and the line or field, and no traceback -- through the real CLI entry point
(``harness.cli.main``, in-process so the whole corpus runs in seconds).

Kinds: experiment, training, embedding (configs), suite_yaml, cases, documents (a copy of the mini
suite with that file replaced), modelfile, reviewers (playground --auth-file), index (documents for
``harness index``). Add a file to a kind's folder to add a case.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from harness.cli import main

CORPUS = Path(__file__).parent / "corpus"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES = sorted(p for p in CORPUS.rglob("*") if p.is_file())
# A line number, a column or a named field: where in the file the problem is.
LOCATED = re.compile(r"(:\d+\b|line \d+|column \d+|field '|\bparameter \w+)")
# File-level problems have no line: the message names the file and what is wrong with all of it.
FILE_LEVEL = {"cases/empty.jsonl": "no cases", "index/empty.txt": "no text", "index/unsupported.docx": "unsupported",
              "index/corrupt.pdf": "pdf", "experiment/empty.yaml": "suites",
              "experiment/top-level-scalar.yaml": "mapping", "experiment/top-level-list.yaml": "mapping",
              "experiment/alias-bomb.yaml": "alias bomb",
              "training/alias-bomb.yaml": "alias bomb", "suite_yaml/alias-bomb.yaml": "alias bomb",
              "reviewers/alias-bomb.yaml": "alias bomb", "cases/utf16.jsonl": "utf-8",
              "index/binary.md": "utf-8"}


def _mini_suites(tmp_path: Path, replace: str, source: Path) -> Path:
    suites = tmp_path / "suites"
    shutil.copytree(FIXTURES / "suites" / "mini", suites / "mini")
    shutil.copy(source, suites / "mini" / "v1" / replace)
    return suites


def _argv(case: Path, tmp_path: Path) -> tuple[list[str], str]:
    """CLI arguments for a corpus file, and the file name the message must contain."""
    kind = case.parent.name
    store = ["--store", str(tmp_path / "store.sqlite")]
    if kind == "experiment":
        return ["run", str(case), *store, "--report-dir", str(tmp_path / "reports"), "--no-progress"], case.name
    if kind in {"training", "embedding"}:
        return ["train", str(case)] + (store if kind == "training" else []), case.name
    if kind in {"suite_yaml", "cases", "documents"}:
        replace = {"suite_yaml": "suite.yaml", "cases": "cases.jsonl", "documents": "documents.jsonl"}[kind]
        suites = _mini_suites(tmp_path, replace, case)
        config = tmp_path / "exp.yaml"
        config.write_text(f"name: fuzz\nsuites_dir: {suites}\nsuites: [mini/v1]\ncandidates:\n  - name: base\n")
        return ["run", str(config), *store, "--report-dir", str(tmp_path / "r"), "--no-progress"], replace
    if kind == "modelfile":
        return ["models", "create", "fuzz", "--modelfile", str(case), "--host", "http://127.0.0.1:9"], case.name
    if kind == "reviewers":
        return ["playground", "--auth-file", str(case), "--port", "9", *store], case.name
    if kind == "index":
        return ["index", str(case), "--index-dir", str(tmp_path / "index")], case.name
    raise AssertionError(f"unknown corpus kind {kind!r}")


def test_the_corpus_covers_every_input_kind() -> None:
    kinds = {p.parent.name for p in CASES}
    assert kinds == {"experiment", "training", "embedding", "suite_yaml", "cases", "documents", "modelfile",
                     "reviewers", "index"}
    assert len(CASES) >= 80


@pytest.mark.parametrize("case", CASES, ids=[str(p.relative_to(CORPUS)) for p in CASES])
def test_malformed_input_exits_2_naming_file_and_place(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    argv, named = _argv(case, tmp_path)
    monkeypatch.setattr(sys, "argv", ["harness", *argv])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:  # any other exception is a crash: the test fails with it
        main()
    out = capsys.readouterr()
    message = out.err + out.out
    assert info.value.code == 2, message
    assert "Traceback" not in message, message
    assert named in message, message
    key = str(case.relative_to(CORPUS))
    if key in FILE_LEVEL:
        assert FILE_LEVEL[key].lower() in message.lower(), message
    else:
        assert LOCATED.search(message), message
    assert (tmp_path / "store.sqlite").exists() is False or _no_orphan_runs(tmp_path / "store.sqlite")


def _no_orphan_runs(path: Path) -> bool:
    """A rejected input never leaves a 'running' or 'interrupted' run behind."""
    from harness.store import Store

    with Store(path) as store:
        return store.list_runs() == []
