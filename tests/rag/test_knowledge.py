"""Knowledge bases for any candidate, `harness ask`, and a retriever with nothing to search."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.candidate import Candidate, CandidateSpec
from harness.errors import ConfigError
from harness.suite import load_suite

REPO = Path(__file__).resolve().parents[2]
LEAFLET = """Ketamine clinic visit guide

Before your session
Do not eat for four hours before your appointment. Arrange a ride home; you may not drive the same day.

After your session
Rest for the evening. Call the clinic line if you feel unsafe or very unwell; the team answers day and night.
"""
PARKING = "Parking\n\nThe clinic car park is behind the building; the first two hours are free for patients.\n"


def _kb(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "visit-guide.md").write_text(LEAFLET)
    (folder / "parking.txt").write_text(PARKING)
    return folder


def test_retriever_on_a_suite_without_documents_is_an_error_not_ignored() -> None:
    therapy = load_suite("therapy", "v1")
    candidate = Candidate(CandidateSpec(name="c", retriever={"k": 2}))
    with pytest.raises(ConfigError, match=r"retriever on suite therapy/v1, which has no documents"):
        candidate.uses_retrieval(therapy)
    skip = Candidate(CandidateSpec(name="s", retriever={"k": 2, "without_documents": "skip"}))
    assert skip.uses_retrieval(therapy) is False


def test_knowledge_fields_leave_the_generator_fingerprint_of_plain_rag_alone() -> None:
    plain = CandidateSpec(name="a", retriever={"k": 3}).retriever
    skip = CandidateSpec(name="a", retriever={"k": 3, "without_documents": "skip"}).retriever
    assert plain is not None and skip is not None and plain.output_affecting() == skip.output_affecting()


def test_companion_on_a_therapy_suite_gets_knowledge_base_excerpts(tmp_path: Path, minilm_encoder: object,
                                                                  tiny_gpt2: Path) -> None:
    from harness.store import Store

    _kb(tmp_path / "kb")
    therapy = load_suite("therapy", "v1")
    spec = CandidateSpec(name="companion", model=str(tiny_gpt2), params={"max_new_tokens": 4},
                         retriever={"documents": "kb", "k": 2})
    candidate = Candidate(spec, tmp_path)
    cases = [c for c in therapy.cases if c.split == "test"][:2]
    retrieved = candidate._retrieve(therapy, cases)
    assert all(len(hits) == 2 for hits in retrieved)
    with Store(tmp_path / "store.sqlite") as store:
        keys, outputs = candidate.generate(store, therapy, cases)
        row = store.conn.execute("SELECT messages_json FROM generations WHERE cache_key = ?",
                                 (keys[cases[0].id],)).fetchone()
    assert set(outputs) == {c.id for c in cases} and outputs[cases[0].id].retrieved
    system = json.loads(row["messages_json"])[0]
    assert system["role"] == "system" and "Reference material from the knowledge base" in system["content"]


def test_index_collection_then_ask_from_another_folder(tmp_path: Path, tiny_gpt2: Path) -> None:
    """`harness index --collection` then `harness ask` with a chosen candidate: answer plus sources."""
    docs = _kb(tmp_path / "docs")
    (tmp_path / "exp.yaml").write_text(
        f"name: ask\nsuites: [therapy/v1]\ncandidates:\n  - name: tiny\n    model: {tiny_gpt2}\n"
        "    params: {max_new_tokens: 6}\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cli = [sys.executable, "-c", "from harness.cli import main; main()"]
    done = subprocess.run([*cli, "index", str(docs), "--collection", "clinic-kb"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    asked = subprocess.run([*cli, "ask", "Can I drive home after my session?", "--collection", "clinic-kb",
                            "--config", "exp.yaml", "--candidate", "tiny", "--k", "1"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
    assert asked.returncode == 0, asked.stderr
    assert "sources:\n  1. [visit-guide / " in asked.stdout
    missing = subprocess.run([*cli, "ask", "Where do I park?", "--collection", "nope"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "knowledge base 'nope' does not exist" in missing.stderr
