"""The learned half of the risk detector: an ordinal logistic model next to the rules.

Why: rules only know the phrasings their author imagined. The model reads the same text as hashed
word n-grams (the features of ``harness.metrics.models``; ``minilm`` adds MiniLM sentence
embeddings) and, for the shipped lexical model, what the rules found (level, cue kinds); the
MiniLM variant reads the text only, so it is a second opinion that can catch what the rules miss
(a model fed the rule level learns to echo it, and a text-only n-gram model false-raised everyday
sentences). It gives four cumulative probabilities P(level >= low / moderate / high / imminent).
It can only *raise* the rule level, and only where it is confident (each head has a threshold
chosen on out-of-fold predictions so that it raises at most ~2% of lower-level training texts):
rules never get weaker.

The shipped weights (``weights/risk-ordinal-<encoder>.npz`` + ``.json`` recipe, data hashes and
figures) are rebuilt by ``harness train-metric risk``. Missing weights are an error, not a silent
fall back to rules only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import ModelNotFoundError
from harness.metrics.models import HASH_DIM, WEIGHTS_DIR, featurize

HEADS: tuple[str, ...] = ("low", "moderate", "high", "imminent")
RULE_LEVELS: tuple[str, ...] = ("none", "low", "moderate", "high", "imminent")
# Cue kinds the rules report; their presence (active / discounted) is a model feature.
RULE_KINDS: tuple[str, ...] = (
    "act_in_progress", "farewell", "farewell_implicit", "intent", "intent_generic", "plan", "preparatory",
    "means", "method", "method_thought", "at_height", "attempt", "active", "self_harm", "passive",
    "hopelessness", "protective",
)  # fmt: skip
DISCOUNTS: tuple[str, ...] = ("negated", "idiom", "hypothetical", "third_person")
N_RULE_FEATURES = len(RULE_LEVELS) + len(RULE_KINDS) + len(DISCOUNTS) + 1
RULE_SCALE = 1.0  # weight of the rule block next to the L2-normalised n-gram block


def weights_path(encoder: str = "lexical") -> Path:
    return WEIGHTS_DIR / f"risk-ordinal-{encoder}.npz"


def rule_features(level: str, active_kinds: set[str], discounted: set[str], has_timeline: bool) -> np.ndarray:
    """The rules' reading of one text as a fixed vector (level one-hot, cue kinds, discount reasons)."""
    vec = np.zeros(N_RULE_FEATURES, dtype=np.float32)
    vec[RULE_LEVELS.index(level)] = 1.0
    base = len(RULE_LEVELS)
    for i, kind in enumerate(RULE_KINDS):
        vec[base + i] = float(kind in active_kinds)
    base += len(RULE_KINDS)
    for i, reason in enumerate(DISCOUNTS):
        vec[base + i] = float(reason in discounted)
    vec[-1] = float(has_timeline)
    return vec * RULE_SCALE


def model_features(texts: Sequence[str], rules: np.ndarray | None, encoder: str = "lexical") -> Any:
    """n-gram (+ embedding) block, and the rule block when ``rules`` is given, as one sparse matrix."""
    from scipy.sparse import csr_matrix, hstack

    text = featurize(list(texts), encoder)
    return text if rules is None else hstack([text, csr_matrix(rules)]).tocsr()


@dataclass
class OrdinalRiskModel:
    """Four cumulative logistic heads over the same features; numpy only at inference."""

    encoder: str
    coef: np.ndarray  # (4, n_features)
    intercept: np.ndarray  # (4,)
    thresholds: np.ndarray  # (4,) P(>= head) needed to raise the level to that head
    meta: dict[str, Any] = field(default_factory=dict)
    weak_coef: np.ndarray | None = None  # (n_features,) SDCNL head: SuicideWatch-like content
    weak_intercept: float = 0.0
    with_rules: bool = False  # whether the rule block is part of the features

    def content_probability_from(self, X: Any) -> np.ndarray:
        """(n,) P(SuicideWatch rather than depression post): orders texts inside a level, never raises one."""
        if self.weak_coef is None:
            return np.full(X.shape[0], 0.5, dtype=np.float32)
        return 1.0 / (1.0 + np.exp(-(np.asarray(X @ self.weak_coef) + self.weak_intercept)))

    def probabilities_from(self, X: Any) -> np.ndarray:
        """(n, 4) P(level >= low, moderate, high, imminent), made non-increasing across heads."""
        z = np.asarray(X @ self.coef.T) + self.intercept
        p = 1.0 / (1.0 + np.exp(-z))
        return np.minimum.accumulate(p, axis=1)

    def confident_level(self, probs: np.ndarray) -> str:
        """The highest level whose head clears its threshold ('none' when none does)."""
        level = "none"
        for head, p, t in zip(HEADS, probs, self.thresholds, strict=True):
            if p >= t:
                level = head
        return level

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            coef=self.coef.astype(np.float16),
            intercept=self.intercept.astype(np.float32),
            thresholds=self.thresholds.astype(np.float32),
            weak_coef=(self.weak_coef if self.weak_coef is not None else np.zeros(0)).astype(np.float16),
            weak_intercept=np.array(self.weak_intercept, dtype=np.float32),
            encoder=np.array(self.encoder),
            with_rules=np.array(self.with_rules),
            dim=np.array(HASH_DIM),
        )
        path.with_suffix(".json").write_text(json.dumps(self.meta, indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> OrdinalRiskModel:
        with np.load(path, allow_pickle=False) as z:
            if int(z["dim"]) != HASH_DIM:
                raise ModelNotFoundError(f"{path}: hashed for dim {int(z['dim'])}, this code uses {HASH_DIM}")
            meta_path = path.with_suffix(".json")
            return cls(
                encoder=str(z["encoder"]),
                coef=z["coef"].astype(np.float32),
                intercept=z["intercept"].astype(np.float32),
                thresholds=z["thresholds"].astype(np.float32),
                meta=json.loads(meta_path.read_text()) if meta_path.exists() else {},
                weak_coef=z["weak_coef"].astype(np.float32) if z["weak_coef"].size else None,
                weak_intercept=float(z["weak_intercept"]),
                with_rules=bool(z["with_rules"]) if "with_rules" in z else True,
            )


@lru_cache(maxsize=4)
def load_risk_model(encoder: str = "lexical", path: str | None = None) -> OrdinalRiskModel:
    """The shipped (or given) ordinal risk model, loaded once per process; missing weights raise."""
    target = Path(path) if path else weights_path(encoder)
    if not target.exists():
        raise ModelNotFoundError(
            f"risk model weights not found: {target}",
            hint="rebuild them with: harness train-metric risk (needs ../shared/data/sdcnl and the suites)",
        )
    return OrdinalRiskModel.load(target)
