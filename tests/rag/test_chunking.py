from __future__ import annotations

from itertools import pairwise

import pytest
from pydantic import ValidationError

from harness.rag.chunking import (
    PREAMBLE,
    ChunkingConfig,
    chunk_document,
    heading_title,
    locate_passage,
    split_sections,
)

NOTE = """Patient: Jane Roe
Admitted 3 days ago.

# Discharge Diagnosis
Community-acquired pneumonia.

SECTION: Medications
1. Amoxicillin 500 mg three times a day.
ASPIRIN 81 MG DAILY

DIET: Low sodium diet, less than 2 grams of salt per day; avoid canned soups, chips and deli meats please.

FOLLOW-UP
See Dr. Patel on Monday.

Discharge Instructions:
Rest at home.
"""


def test_headings_of_every_style_start_sections() -> None:
    titles = [title for title, _, _ in split_sections(NOTE)]
    assert titles == [PREAMBLE, "Discharge Diagnosis", "Medications", "DIET", "FOLLOW-UP", "Discharge Instructions"]


def test_all_caps_medication_line_with_digits_is_not_a_heading() -> None:
    assert heading_title("ASPIRIN 81 MG DAILY") is None
    assert heading_title("WHEN TO CALL YOUR DOCTOR") == "WHEN TO CALL YOUR DOCTOR"
    assert heading_title("Patient: Jane Roe") is None  # title-case label with content is body text


def test_long_inline_caps_label_is_still_a_heading() -> None:
    line = "ACTIVITY: Avoid strenuous exercise for 4 weeks. No swimming until cleared by your doctor, please."
    assert len(line) > 80
    assert heading_title(line) == "ACTIVITY"


def test_chunk_text_is_exactly_the_original_slice() -> None:
    chunks = chunk_document("doc-1", NOTE)
    assert chunks
    for chunk in chunks:
        assert NOTE[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()
        assert chunk.metadata()["document_id"] == "doc-1"
    assert {c.section for c in chunks} >= {"Medications", "DIET", "FOLLOW-UP"}


def test_chunks_never_cross_a_heading() -> None:
    sections = {title: (start, end) for title, start, end in split_sections(NOTE)}
    for chunk in chunk_document("doc-1", NOTE):
        start, end = sections[chunk.section]
        assert start <= chunk.start and chunk.end <= end


def test_long_section_is_windowed_with_overlap_and_fully_covered() -> None:
    body = " ".join(f"Sentence number {i} about wound care and dressing changes." for i in range(60))
    text = f"WOUND CARE\n{body}\n"
    config = ChunkingConfig(max_size=300, overlap=60)
    chunks = chunk_document("d", text, config)
    assert len(chunks) > 5
    assert all(len(c.text) <= 300 for c in chunks)
    for first, second in pairwise(chunks):
        assert second.start < first.end, "consecutive windows overlap"
        assert second.start > first.start
        assert text[second.start - 1].isspace(), "windows start on a word boundary"
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    section_start = text.index("Sentence")
    assert all(i in covered for i in range(section_start, len(text.rstrip())) if not text[i].isspace())


def test_token_windows_count_words() -> None:
    text = "ACTIVITY\n" + " ".join(f"w{i}" for i in range(100))
    chunks = chunk_document("d", text, ChunkingConfig(unit="tokens", max_size=30, overlap=10))
    sizes = [len(c.text.split()) for c in chunks]
    assert max(sizes) <= 30
    # the second window repeats the last 10 words of the first
    assert chunks[0].text.split()[-10:] == chunks[1].text.split()[:10]


def test_token_windows_accept_a_tokenizer() -> None:
    def letters(text: str) -> list[tuple[int, int]]:
        return [(i, i + 1) for i, ch in enumerate(text) if not ch.isspace()]

    config = ChunkingConfig(unit="tokens", max_size=4, overlap=1)
    chunks = chunk_document("d", "DIET\nabcdefghij", config, token_spans=letters)
    assert [c.text.replace("\n", "") for c in chunks] == ["DIET", "Tabc", "cdef", "fghi", "ij"]


def test_chunk_ids_are_stable_and_content_addressed() -> None:
    first = [c.chunk_id for c in chunk_document("doc-1", NOTE)]
    again = [c.chunk_id for c in chunk_document("doc-1", NOTE)]
    other_doc = [c.chunk_id for c in chunk_document("doc-2", NOTE)]
    edited = [c.chunk_id for c in chunk_document("doc-1", NOTE.replace("Monday", "Friday"))]
    assert first == again
    assert not set(first) & set(other_doc)
    assert len(set(first) - set(edited)) == 1, "same-length edit: only that section gets a new id"


def test_overlap_must_be_smaller_than_window() -> None:
    with pytest.raises(ValidationError):
        ChunkingConfig(max_size=100, overlap=100)


def test_window_text_loses_heading_so_section_is_prepended_for_embedding() -> None:
    body = " ".join(f"Item {i} of the diet plan is important." for i in range(40))
    chunks = chunk_document("d", f"DIET\n{body}", ChunkingConfig(max_size=200, overlap=20))
    assert chunks[0].embedding_text == chunks[0].text
    assert chunks[-1].embedding_text == f"DIET: {chunks[-1].text}"


def test_locate_passage_tolerates_rewrapped_whitespace() -> None:
    doc = "DIET: Low sodium diet,\n  less than 2 grams."
    assert locate_passage(doc, "Low sodium diet, less than 2 grams.") == (6, len(doc))
    assert locate_passage(doc, "not there") is None
