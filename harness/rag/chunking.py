"""Section-aware chunking of discharge documents.

Discharge notes are organised by headings (``MEDICATIONS:``, ``## Diet``, ``FOLLOW-UP``); a
question usually targets one section, so chunks never straddle a heading. Long sections are
windowed with overlap so that a passage cut by one window boundary is whole in the next.

Every chunk keeps ``start``/``end`` character offsets into the original text and its text is
exactly ``text[start:end]``; the retrieval metric relies on this to match the gold passage.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PREAMBLE = "preamble"

_MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
# "DIET: low salt" or "SECTION: Medications" -- an all-caps label with inline content.
_CAPS_LABEL_INLINE = re.compile(r"^\s*(?P<title>[A-Z][A-Z0-9 /&(),'-]{1,48}[A-Z)])\s*:\s*\S")
# "Discharge Medications:" alone on its line.
_LABEL_ALONE = re.compile(r"^\s*(?P<title>[A-Z][A-Za-z0-9 /&(),'-]{1,58})\s*:\s*$")
_SECTION_PREFIX = re.compile(r"^\s*SECTION\s*:\s*(?P<title>\S.*?)\s*$", re.IGNORECASE)
_WORD = re.compile(r"\S+")


class ChunkingConfig(BaseModel):
    """How documents are cut. ``unit="tokens"`` counts whitespace-separated words by default.

    ``max_size``/``overlap`` are in ``unit``s. About 120 words fit MiniLM's 256-wordpiece limit,
    so the defaults keep a chunk whole for the encoder.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: Literal["chars", "tokens"] = "chars"
    max_size: int = Field(default=600, gt=0)
    overlap: int = Field(default=100, ge=0)
    max_heading_words: int = Field(default=6, gt=0)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkingConfig:
        if self.overlap >= self.max_size:
            raise ValueError(f"overlap ({self.overlap}) must be smaller than max_size ({self.max_size})")
        return self

    def fingerprint_data(self) -> dict[str, Any]:
        return self.model_dump()


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage; ``text == document_text[start:end]``."""

    document_id: str
    section: str
    start: int
    end: int
    text: str
    chunk_id: str

    @property
    def embedding_text(self) -> str:
        """What the encoder sees: the section name is prepended when the window lost its heading."""
        if self.section == PREAMBLE or self.section.lower() in self.text[: len(self.section) + 8].lower():
            return self.text
        return f"{self.section}: {self.text}"

    def metadata(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "section": self.section,
            "start": self.start,
            "end": self.end,
            "chunk_id": self.chunk_id,
        }


def chunk_id(document_id: str, start: int, end: int, text: str) -> str:
    """Stable id: the same document text chunked the same way gives the same ids (incremental indexing)."""
    digest = hashlib.sha256(f"{document_id}\x00{start}\x00{end}\x00{text}".encode())
    return digest.hexdigest()[:32]


def locate_passage(document: str, passage: str) -> tuple[int, int] | None:
    """Character span of ``passage`` in ``document``, tolerant of whitespace and case differences.

    Gold passages are meant to be verbatim, but a re-wrapped line should not make a case unscorable.
    """
    if not passage.strip():
        return None
    exact = document.find(passage)
    if exact != -1:
        return exact, exact + len(passage)
    pattern = r"\s+".join(re.escape(word) for word in passage.split())
    match = re.search(pattern, document, flags=re.IGNORECASE)
    return (match.start(), match.end()) if match else None


def heading_title(line: str, max_words: int = 6) -> str | None:
    """The section title if ``line`` is a heading, else None.

    Headings: Markdown ``#`` lines, ``SECTION: name`` lines, short ``Label:`` lines, all-caps
    ``LABEL: content`` lines and short ALL-CAPS lines without digits (digits suggest a
    medication line such as ``ASPIRIN 81 MG``).
    """
    stripped = line.strip()
    if not stripped:
        return None
    match = _SECTION_PREFIX.match(line)
    if match and len(stripped) <= 80:
        return match.group("title").rstrip(":").strip()
    match = _CAPS_LABEL_INLINE.match(line)
    if match and len(match.group("title").split()) <= max_words:
        return match.group("title").strip()
    if len(stripped) > 80:
        return None
    match = _MARKDOWN_HEADING.match(line)
    if match:
        return match.group("title").strip().rstrip(":").strip()
    match = _LABEL_ALONE.match(line)
    if match and len(match.group("title").split()) <= max_words:
        return match.group("title").strip()
    letters = [c for c in stripped if c.isalpha()]
    if (
        len(letters) >= 3
        and all(c.isupper() for c in letters)
        and not any(c.isdigit() for c in stripped)
        and len(stripped.split()) <= max_words
        and not stripped.endswith((".", ",", ";"))
    ):
        return stripped.rstrip(":").strip()
    return None


def split_sections(text: str, max_heading_words: int = 6) -> list[tuple[str, int, int]]:
    """(title, start, end) spans covering ``text``; a heading line belongs to its own section."""
    starts: list[tuple[str, int]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        title = heading_title(line, max_heading_words)
        if title:
            starts.append((title, offset))
        offset += len(line)
    if not starts or starts[0][1] > 0:
        starts.insert(0, (PREAMBLE, 0))
    spans = []
    for index, (title, start) in enumerate(starts):
        end = starts[index + 1][1] if index + 1 < len(starts) else len(text)
        spans.append((title, start, end))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _char_windows(text: str, start: int, end: int, size: int, overlap: int) -> Iterable[tuple[int, int]]:
    """Windows of at most ``size`` chars, cut at a line, sentence or word break where one is near."""
    pos = start
    while pos < end:
        stop = min(pos + size, end)
        if stop < end:
            floor = pos + size // 2
            for sep in ("\n", ". ", "; ", ", ", " "):
                cut = text.rfind(sep, floor, stop)
                if cut != -1:
                    stop = cut + len(sep)
                    break
        yield pos, stop
        if stop >= end:
            return
        nxt = max(stop - overlap, pos + 1)
        # start the next window on a word boundary
        while nxt < stop and not text[nxt - 1].isspace():
            nxt += 1
        pos = nxt


def _token_windows(
    spans: list[tuple[int, int]], size: int, overlap: int
) -> Iterable[tuple[int, int]]:
    step = size - overlap
    for first in range(0, len(spans), step):
        window = spans[first : first + size]
        yield window[0][0], window[-1][1]
        if first + size >= len(spans):
            return


TokenSpans = Callable[[str], list[tuple[int, int]]]


def whitespace_token_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _WORD.finditer(text)]


def chunk_document(
    document_id: str,
    text: str,
    config: ChunkingConfig | None = None,
    *,
    token_spans: TokenSpans | None = None,
) -> list[Chunk]:
    """Cut one document into section-bounded, overlapping windows.

    ``token_spans`` (text -> list of (start, end)) lets ``unit="tokens"`` count a real
    tokenizer's tokens, e.g. from ``tokenizer(text, return_offsets_mapping=True)``.
    """
    config = config or ChunkingConfig()
    chunks: list[Chunk] = []
    for title, sec_start, sec_end in split_sections(text, config.max_heading_words):
        sec_start, sec_end = _trim(text, sec_start, sec_end)
        if sec_start >= sec_end:
            continue
        if config.unit == "chars":
            windows = _char_windows(text, sec_start, sec_end, config.max_size, config.overlap)
        else:
            spans = (token_spans or whitespace_token_spans)(text[sec_start:sec_end])
            spans = [(sec_start + a, sec_start + b) for a, b in spans if b > a]
            windows = _token_windows(spans, config.max_size, config.overlap) if spans else []
        for win_start, win_end in windows:
            win_start, win_end = _trim(text, win_start, win_end)
            if win_start >= win_end:
                continue
            piece = text[win_start:win_end]
            chunks.append(
                Chunk(document_id, title, win_start, win_end, piece, chunk_id(document_id, win_start, win_end, piece))
            )
    return chunks
