from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.rag import ingest
from harness.rag.chunking import Chunk
from harness.rag.index import SyncStats
from harness.rag.ingest import ingest_paths, load_documents, read_document


class RecordingIndex:
    """Stands in for ChunkIndex: records what would have been written."""

    def __init__(self) -> None:
        self.synced: list[list[str]] = []

    def sync(self, chunks: Sequence[Chunk], document_ids: Iterable[str] | None = None) -> SyncStats:

        self.synced.append([c.chunk_id for c in chunks])
        return SyncStats(embedded=len(chunks), skipped=0, removed=0)


def test_text_and_markdown_are_read_with_the_stem_as_id(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("DIET\nLow salt.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Activity\nWalk daily.\n", encoding="utf-8")
    docs = load_documents([tmp_path])
    assert [d.id for d in docs] == ["a", "b"]
    assert docs[1].text.startswith("# Activity")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"  \n\n", "empty"),
        ("binary.txt", b"DIET\x00\x01\x02", "binary"),
        ("latin1.md", "Di\u00e4t: salzarm".encode("latin-1"), "not valid UTF-8"),
        ("notes.docx", b"PK\x03\x04", "unsupported document type"),
    ],
)
def test_bad_documents_raise_config_error_naming_the_file(tmp_path: Path, name: str, content: bytes,
                                                          message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        read_document(path)
    assert name in str(caught.value)
    assert message in str(caught.value)


def test_pdf_without_pypdf_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "summary.pdf"
    path.write_bytes(b"%PDF-1.4\n")
    real = importlib.util.find_spec
    monkeypatch.setattr(ingest.importlib.util, "find_spec", lambda name: None if name == "pypdf" else real(name))
    with pytest.raises(ConfigError, match="pypdf"):
        read_document(path)


def test_one_bad_file_stops_the_ingest_before_anything_is_indexed(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("DIET\nLow salt.\n", encoding="utf-8")
    (tmp_path / "z.txt").write_bytes(b"\xff\xfe\x00garbage")
    index = RecordingIndex()
    with pytest.raises(ConfigError, match=r"z\.txt"):
        ingest_paths([tmp_path], index)  # type: ignore[arg-type]
    assert index.synced == []


def test_duplicate_ids_across_folders_are_rejected(tmp_path: Path) -> None:
    for sub in ("x", "y"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "note.txt").write_text("DIET\nLow salt.\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="already used"):
        load_documents([tmp_path / "x", tmp_path / "y"])


def test_good_folder_is_chunked_and_synced_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("DIET\nLow salt.\n\nACTIVITY\nWalk.\n", encoding="utf-8")
    index = RecordingIndex()
    result = ingest_paths([tmp_path], index)  # type: ignore[arg-type]
    assert result.documents == 1 and result.chunks == 2
    assert len(index.synced) == 1 and len(index.synced[0]) == 2


def test_harness_index_command_indexes_incrementally_answers_a_query_and_names_a_bad_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from harness.cli import app
    from harness.errors import HarnessError

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.md").write_text(
        "# Discharge Summary\n\n## Diet\nEat a low-salt diet.\n\n## Follow-up\n"
        "See Dr. Lee in cardiology clinic on 3 May at 10:00.\n"
    )
    args = ["index", str(docs), "--index-dir", str(tmp_path / "idx")]
    first = CliRunner().invoke(app, [*args, "--query", "When do I see the heart doctor?", "--k", "1"])
    assert first.exit_code == 0, first.output
    assert "1 document(s)" in first.output and "0 unchanged" in first.output
    assert "1. [note / Follow-up]" in first.output and "Dr. Lee" in first.output
    second = CliRunner().invoke(app, args)
    assert "0 embedded" in second.output, "unchanged chunks are not embedded again"
    (tmp_path / "scan.txt").write_bytes(b"%PDF\x00\x01\x02")
    bad = CliRunner().invoke(app, [*args, str(tmp_path / "scan.txt")])
    assert isinstance(bad.exception, HarnessError) and "scan.txt" in str(bad.exception)
