"""Word limits and the summary HTML format.

Words are counted after stripping markup, so ``<b>Risk:</b> Low`` is two words. A word limit is
judged only on complete outputs: a reply cut at the token limit is ``truncated`` and scores 0 on
``within_limit`` (it was stopped, not concise). The format check parses the output with the
standard-library HTML parser: only allowed tags, every required section label present as
``<b>Label:</b>`` and in the required order, tags balanced. ``well_formed`` -- the key released
gates use -- means a valid record: balanced tags *and* every required section, in order, with text
after it; plain text with no HTML is not well formed. ``tags_balanced`` is the markup-only check.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from html.parser import HTMLParser

from harness.metrics.base import CaseScore, Output, ValueKey, register_metric
from harness.metrics.degenerate import is_truncated
from harness.suite import Case

_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’\-][A-Za-z0-9]+)*")


def strip_markup(text: str) -> str:
    """Plain text: tags removed (replaced by spaces) and entities unescaped."""
    return re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", text or ""))).strip()


def count_words(text: str) -> int:
    return len(_WORD.findall(strip_markup(text)))


@register_metric("word_limit", family="format", headline=("within_limit",), binary=True, details="words",
                 order=20)
class WordLimit:
    """Word count against the case's ``word_limit`` (or the suite's ``default_limit``)."""

    name = "word_limit"
    keys = (
        ValueKey("within_limit", True, "1 if the complete output is within the word limit (0 if truncated)",
                 label="within word limit"),
        ValueKey("word_count", False, "words in the output (markup stripped)", (0.0, None)),
    )

    def __init__(self, default_limit: int | None = None) -> None:
        self.default_limit = default_limit

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]:
        results = []
        for case, output in zip(cases, outputs, strict=True):
            words = count_words(output.text)
            limit = case.word_limit or self.default_limit
            truncated = is_truncated(output)
            within = None if limit is None else float(words <= limit and not truncated)
            results.append(CaseScore({"within_limit": within, "word_count": float(words)},
                                     {"words": words, "limit": limit, "truncated": truncated}))
        return results


class _FormatParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.bold_texts: list[str] = []
        self._bold_depth = 0
        self._bold_buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in {"br"}:
            self.stack.append(tag)
        if tag == "b":
            self._bold_depth += 1
            self._bold_buffer = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>")
            return
        self.stack.pop()
        if tag == "b":
            self._bold_depth -= 1
            self.bold_texts.append("".join(self._bold_buffer).strip())

    def handle_data(self, data: str) -> None:
        if self._bold_depth:
            self._bold_buffer.append(data)


def check_summary_format(text: str, sections: Sequence[str], allowed_tags: Sequence[str]) -> dict[str, object]:
    parser = _FormatParser()
    parser.feed(text or "")
    parser.close()
    errors = list(parser.errors) + [f"unclosed <{t}>" for t in parser.stack]
    disallowed = sorted({t for t in parser.tags if t not in allowed_tags})
    labels = [b.rstrip(":").strip().lower() for b in parser.bold_texts]
    positions = []
    missing = []
    for section in sections:
        wanted = section.lower()
        if wanted in labels:
            positions.append(labels.index(wanted))
        else:
            missing.append(section)
    in_order = not missing and positions == sorted(positions)
    empty = _empty_sections(text or "", sections) if not missing else []
    return {
        "well_formed": not errors and in_order and not empty,
        "tags_balanced": not errors,
        "empty_sections": empty,
        "allowed_tags_only": not disallowed,
        "sections_present": not missing,
        "sections_in_order": in_order,
        "missing_sections": missing,
        "disallowed_tags": disallowed,
        "errors": errors,
    }


def _empty_sections(text: str, sections: Sequence[str]) -> list[str]:
    """Sections whose label is followed by no words before the next label (or the end)."""
    plain = re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", text)))
    lowered = plain.lower()
    empty = []
    for index, section in enumerate(sections):
        start = lowered.find(section.lower())
        if start < 0:
            continue
        begin = start + len(section)
        nxt = [lowered.find(s.lower(), begin) for s in sections[index + 1 :]]
        end = min([n for n in nxt if n >= 0], default=len(plain))
        if not _WORD.search(plain[begin:end]):
            empty.append(section)
    return empty


@register_metric("summary_format", family="format", headline=("format_ok",), details="format", order=21)
class SummaryFormat:
    """HTML summary format: allowed tags only, sections present and ordered, well-formed."""

    name = "summary_format"
    keys = (
        ValueKey("format_ok", True, "1 if every format check passes"),
        ValueKey("sections_present", True, "1 if every required section label is present"),
        ValueKey("sections_in_order", True, "1 if the sections appear in the required order"),
        ValueKey("allowed_tags_only", True, "1 if only allowed tags are used"),
        ValueKey("well_formed", True, "1 if a valid record: tags balanced and every section present, in order, filled"),
        ValueKey("tags_balanced", True, "1 if tags are balanced (markup only)"),
    )

    def __init__(self, sections: Sequence[str] = ("Chief Complaint", "Key Themes", "Interventions", "Risk"),
                 allowed_tags: Sequence[str] = ("b", "br", "p", "ul", "li", "i", "em", "strong")) -> None:
        self.sections = list(sections)
        self.allowed_tags = list(allowed_tags)

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]:
        results = []
        for case, output in zip(cases, outputs, strict=True):
            checks = check_summary_format(output.text, case.required_sections or self.sections, self.allowed_tags)
            flags = {k: float(bool(checks[k])) for k in
                     ("sections_present", "sections_in_order", "allowed_tags_only", "well_formed", "tags_balanced")}
            flags["format_ok"] = float(all(flags.values()))
            results.append(CaseScore(flags, checks))
        return results
