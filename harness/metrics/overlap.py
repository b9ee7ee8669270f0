"""Reference overlap: ROUGE (rouge-score, stemmed), BLEU (sacrebleu) and BERTScore (offline MiniLM by default).

With several references a case gets the best match, the usual convention for ROUGE.
Markup is stripped before comparison, so HTML summaries compare on their words.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from harness.metrics.base import CaseScore, Output, ValueKey, register_metric
from harness.metrics.limits import strip_markup
from harness.suite import Case

_ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
_ROUGE_LABELS = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "rougeLsum": "ROUGE-Lsum"}


@lru_cache(maxsize=8)
def _rouge_scorer(types: tuple[str, ...], use_stemmer: bool) -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(types), use_stemmer=use_stemmer)


@register_metric("rouge", headline=("rougeL",), live=False, order=10)
class Rouge:
    """ROUGE-1/2/L/Lsum F1 against the case's reference(s)."""

    name = "rouge"
    # Every type's key, declared for the catalog; an instance keeps those of its ``types``.
    keys = tuple(ValueKey(t, True, f"{t} F1 vs reference", label=_ROUGE_LABELS[t]) for t in _ROUGE_TYPES)

    def __init__(self, types: Sequence[str] = _ROUGE_TYPES, use_stemmer: bool = True) -> None:
        unknown = set(types) - set(_ROUGE_TYPES)
        if unknown:
            raise TypeError(f"unknown ROUGE types {sorted(unknown)}; choose from {list(_ROUGE_TYPES)}")
        self.types = list(types)
        self.use_stemmer = bool(use_stemmer)
        self.keys = [next(k for k in Rouge.keys if k.name == t) for t in self.types]  # type: ignore[assignment]

    @property
    def _scorer(self) -> Any:
        """Built on first use: rouge-score imports all of nltk (seconds), which planning and
        fully cached re-runs never need."""
        return _rouge_scorer(tuple(self.types), self.use_stemmer)

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]:
        results = []
        for case, output in zip(cases, outputs, strict=True):
            refs = [strip_markup(r) for r in case.all_references]
            if not refs:
                results.append(CaseScore({t: None for t in self.types}, {"reason": "no reference"}))
                continue
            prediction = strip_markup(output.text)
            best: dict[str, float] = {t: 0.0 for t in self.types}
            for ref in refs:
                # rougeLsum splits sentences on newlines.
                scores = self._scorer.score(ref.replace(". ", ".\n"), prediction.replace(". ", ".\n"))
                for t in self.types:
                    best[t] = max(best[t], scores[t].fmeasure)
            results.append(CaseScore(dict(best), {}))
        return results


@register_metric("bleu", order=12)
class Bleu:
    """Sentence BLEU (sacrebleu, 0-100, exponential smoothing) against all of the case's references at once.

    Sentence-level BLEU is noisy on short texts; it is here because translation and summarisation
    teams expect it next to ROUGE, not because it tracks clinical quality.
    """

    name = "bleu"
    keys = (ValueKey("bleu", True, "sentence BLEU vs reference(s), 0-100"),)

    def __init__(self, tokenize: str = "13a", lowercase: bool = False) -> None:
        from sacrebleu.metrics import BLEU

        self._bleu = BLEU(tokenize=tokenize, lowercase=lowercase, effective_order=True)

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]:
        results = []
        for case, output in zip(cases, outputs, strict=True):
            refs = [strip_markup(r) for r in case.all_references]
            if not refs:
                results.append(CaseScore({"bleu": None}, {"reason": "no reference"}))
                continue
            result = self._bleu.sentence_score(strip_markup(output.text), refs)
            results.append(CaseScore({"bleu": float(result.score)}, {"signature": str(self._bleu.get_signature())}))
        return results


@lru_cache(maxsize=4)
def _bert_scorer(model: str, num_layers: int | None) -> Any:
    from bert_score import BERTScorer

    from harness.models.embedded import resolve_model_path

    path = resolve_model_path(model)
    kwargs: dict[str, Any] = {"model_type": path, "lang": "en"}
    if num_layers is not None:
        kwargs["num_layers"] = num_layers
    return BERTScorer(**kwargs)


@register_metric("bertscore", headline=("bertscore_f1",), live=False, order=11)
class BertScore:
    """BERTScore P/R/F1. Default backbone: the installed all-MiniLM-L6-v2 (6 layers), offline.

    Name any other backbone (``model: roberta-large``) where it is available; the scorer is
    built once per process and reused, and scoring is batched.
    """

    name = "bertscore"
    keys = (
        ValueKey("bertscore_p", True, "BERTScore precision"),
        ValueKey("bertscore_r", True, "BERTScore recall"),
        ValueKey("bertscore_f1", True, "BERTScore F1", label="BERTScore-F1"),
    )

    def __init__(self, model: str = "all-minilm-l6-v2", num_layers: int | None = 6, batch_size: int = 32) -> None:
        self.model = model
        self.num_layers = num_layers
        self.batch_size = batch_size

    def score(self, cases: Sequence[Case], outputs: Sequence[Output]) -> list[CaseScore]:
        pairs: list[tuple[int, str, str]] = []
        for index, (case, output) in enumerate(zip(cases, outputs, strict=True)):
            for ref in case.all_references:
                pairs.append((index, strip_markup(output.text) or ".", strip_markup(ref)))
        empty = {k.name: None for k in self.keys}
        results = [CaseScore(dict(empty), {"reason": "no reference"}) for _ in cases]
        if not pairs:
            return results
        scorer = _bert_scorer(self.model, self.num_layers)
        precision, recall, f1 = scorer.score(
            [p[1] for p in pairs], [p[2] for p in pairs], batch_size=self.batch_size
        )
        for (index, _, _), p, r, f in zip(pairs, precision.tolist(), recall.tolist(), f1.tolist(), strict=True):
            current = results[index].values
            if current["bertscore_f1"] is None or f > current["bertscore_f1"]:
                results[index] = CaseScore({"bertscore_p": p, "bertscore_r": r, "bertscore_f1": f},
                                           {"backbone": self.model})
        return results
