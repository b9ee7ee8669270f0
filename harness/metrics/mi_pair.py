"""MI behaviour read from the (client turn, counsellor sentence) pair by a LoRA-tuned MiniLM (opt-in).

Why: the hashed-n-gram coder plateaus near macro-F1 0.72-0.73 on AnnoMI behaviour, and frozen MiniLM
embeddings next to it near 0.74-0.75 (docs/metrics.md, mi_codes). Letting the encoder itself read the
client's turn and the counsellor's words together (a sequence-pair classifier, as NLI models do) is
what moves it further. Only a low-rank adapter and a linear head are trained, so the shipped weights
are small (``weights/mi_behaviour-minilm_pair.npz``, under 1 MB): the shipped all-MiniLM-L6-v2 is
loaded offline and the adapter is merged into its weights at load, so inference costs one plain
MiniLM pass per sentence (no peft at run time). It is opt-in (``mi_codes: {encoder: minilm_pair}``):
on two CPU cores it codes tens of responses a second, not the 200 the default must keep.
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
from harness.metrics.models import WEIGHTS_DIR
from harness.models.embedded import minilm_path

PAIR_ENCODER = "minilm_pair"
MAX_TOKENS = 128
_BATCH = 64


_CACHES: list[dict[tuple[str, str], np.ndarray]] = []


def clear_pair_caches() -> None:
    """Forget every encoded pair (benchmarks time real encoding, not the memo)."""
    for cache in _CACHES:
        cache.clear()


def pair_weights_path(kind: str = "mi_behaviour") -> Path:
    return WEIGHTS_DIR / f"{kind}-{PAIR_ENCODER}.npz"


def pair_tokens(tokenizer: Any, texts: Sequence[str], contexts: Sequence[str | None]) -> Any:
    """Tokenised (client turn, counsellor text) pairs; a missing client turn is an empty first segment.

    ``longest_first`` truncation trims the longer of the two, so a long client story cannot push the
    counsellor's sentence out of the 128-token window.
    """
    return tokenizer(
        [c or "" for c in contexts],
        list(texts),
        truncation="longest_first",
        max_length=MAX_TOKENS,
        padding=True,
        return_tensors="pt",
    )


def mean_pool(hidden: Any, mask: Any) -> Any:
    """Mean over real tokens: the pooling all-MiniLM-L6-v2 was trained with."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


@dataclass
class PairClassifier:
    """MiniLM with a merged LoRA delta + linear head over mean-pooled pair tokens; predicts labels.

    Same calling surface as ``LinearTextClassifier`` where ``MICoder`` uses it (``features`` returns
    the class probabilities, ``predict_from`` reads them), so the coder needs no special case.
    """

    kind: str
    classes: tuple[str, ...]
    encoder_model: Any
    tokenizer: Any
    head_weight: np.ndarray  # (n_classes, 384)
    head_bias: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)
    bf16: bool = True
    encoder: str = PAIR_ENCODER
    _cache: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _CACHES.append(self._cache)

    @property
    def uses_context(self) -> bool:
        return True

    @property
    def feature_key(self) -> tuple[str, int, bool]:
        # Its "features" are its own class probabilities: never shared with another model, pair or linear.
        return (f"{PAIR_ENCODER}:{self.kind}", id(self), True)

    def features(self, texts: Sequence[str], contexts: Sequence[str | None] | None = None) -> np.ndarray:
        """Class probabilities per (context, text); each distinct pair is encoded once per process."""
        contexts = list(contexts) if contexts is not None else [None] * len(texts)
        keys = [(c or "", t) for t, c in zip(texts, contexts, strict=True)]
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if missing:
            if len(self._cache) + len(missing) > 50_000:
                self._cache.clear()
            self._cache.update(zip(missing, self._encode(missing), strict=True))
        if not keys:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        return np.stack([self._cache[k] for k in keys])

    def _encode(self, pairs: list[tuple[str, str]]) -> list[np.ndarray]:
        """Batches sorted by length (little padding), bf16 autocast where the CPU supports it."""
        import torch

        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        out: list[np.ndarray] = [np.empty(0)] * len(pairs)
        w = torch.from_numpy(self.head_weight)
        b = torch.from_numpy(self.head_bias)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            for start in range(0, len(order), _BATCH):
                idx = order[start : start + _BATCH]
                batch = pair_tokens(self.tokenizer, [pairs[i][1] for i in idx], [pairs[i][0] for i in idx])
                pooled = mean_pool(self.encoder_model(**batch).last_hidden_state, batch["attention_mask"]).float()
                proba = torch.softmax(pooled @ w.T + b, dim=1).numpy()
                for i, p in zip(idx, proba, strict=True):
                    out[i] = p.astype(np.float32)
        return out

    def predict_from(self, X: np.ndarray) -> list[str]:
        return [self.classes[i] for i in np.asarray(X).argmax(axis=1)] if len(X) else []

    def predict_proba(self, texts: Sequence[str], contexts: Sequence[str | None] | None = None) -> np.ndarray:
        return self.features(texts, contexts)

    def predict(self, texts: Sequence[str], contexts: Sequence[str | None] | None = None) -> list[str]:
        return self.predict_from(self.features(texts, contexts))


def save_pair_weights(path: Path, classes: Sequence[str], lora: dict[str, np.ndarray], head: dict[str, np.ndarray],
                      meta: dict[str, Any]) -> Path:
    """Adapter (``lora:<module>:A`` / ``:B``), head and classes as float16 npz + JSON sidecar (provenance)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"lora:{k}": v.astype(np.float16) for k, v in lora.items()}
    arrays.update({f"head:{k}": v.astype(np.float32) for k, v in head.items()})
    np.savez_compressed(path, classes=np.array(list(classes)), **arrays)
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return path


def merge_lora(model: Any, lora: dict[str, np.ndarray], scaling: float) -> None:
    """W += scaling * B @ A for every adapted linear layer (``<module path>:A`` / ``:B`` keys)."""
    import torch

    modules = dict(model.named_modules())
    names = {k.rsplit(":", 1)[0] for k in lora}
    for name in names:
        if name not in modules:
            raise ModelNotFoundError(f"adapter names a layer MiniLM does not have: {name}")
        delta = torch.from_numpy(lora[f"{name}:B"].astype(np.float32) @ lora[f"{name}:A"].astype(np.float32))
        with torch.no_grad():
            modules[name].weight += scaling * delta


def load_pair_classifier(path: Path | str | None = None, kind: str = "mi_behaviour") -> PairClassifier:
    """The shipped (or given) adapter on the embedded MiniLM, loaded offline; cached per path."""
    return _load(str(path) if path else str(pair_weights_path(kind)), kind)


@lru_cache(maxsize=4)
def _load(path: str, kind: str) -> PairClassifier:
    from transformers import AutoModel, AutoTokenizer

    target = Path(path)
    if not target.exists():
        raise ModelNotFoundError(
            f"no weights for the MI pair model at {target}",
            hint="train with: harness train-metric mi --encoder minilm_pair --data ../shared/data",
        )
    meta_path = target.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    with np.load(target, allow_pickle=False) as z:
        lora = {k.split(":", 1)[1]: z[k] for k in z.files if k.startswith("lora:")}
        head = {k.split(":", 1)[1]: z[k] for k in z.files if k.startswith("head:")}
        classes = tuple(str(c) for c in z["classes"])
    model = AutoModel.from_pretrained(str(minilm_path()))
    merge_lora(model, lora, float(meta.get("lora_alpha", 16)) / float(meta.get("lora_r", 8)))
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(str(minilm_path()))
    return PairClassifier(kind, classes, model, tokenizer, head["weight"], head["bias"], meta)
