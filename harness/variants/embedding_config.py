"""The embedding fine-tune's config: one typed model whose fields map one to one onto the YAML keys."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from harness.rag.chunking import ChunkingConfig
from harness.suite import Suite, load_suite, parse_suite_ref
from harness.yamlio import load_yaml_config, validate_yaml_model


class EmbeddingFinetuneConfig(BaseModel):
    """One YAML file (``configs/training/embedding-*.yaml``); keys map 1:1 to these fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["embedding"] = "embedding"
    name: str = "embedding-discharge"
    suite: str = "discharge/v1"
    base_model: str | None = None  # sentence-transformers folder; None = embedded all-MiniLM-L6-v2
    output_dir: str | None = None  # None = $HARNESS_HOME/embeddings
    epochs: float = Field(default=1.0, gt=0)
    max_steps: int | None = Field(default=None, gt=0)  # caps training for smoke runs
    batch_size: int = Field(default=16, ge=2)  # in-batch negatives need at least 2
    learning_rate: float = Field(default=2e-5, gt=0)
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1)
    seed: int = 42
    loss: Literal["mnrl", "cached_mnrl"] = "mnrl"
    mini_batch_size: int = Field(default=8, gt=0)  # cached_mnrl only
    hard_negatives: bool = False
    num_hard_negatives: int = Field(default=1, gt=0)
    no_duplicates: bool = True
    synthetic_questions: bool = True
    synthetic_documents: Literal["auto", "train_only", "all"] = "auto"
    max_synthetic_per_section: int = Field(default=2, ge=0)
    max_synthetic_per_medication: int = Field(default=2, ge=0)
    positive: Literal["chunk", "gold_passage"] = "chunk"
    extra_notes_dir: str | None = None  # e.g. ../shared/data/aci-bench; skipped when absent
    max_extra_notes: int = Field(default=40, ge=0)
    # Splits whose cases become training pairs. ["train", "dev"] is the final fit after settings
    # were chosen by cross-validation (harness.variants.embedding_cv); the test split never trains.
    train_splits: list[Literal["train", "dev"]] = Field(default_factory=lambda: ["train"], min_length=1)
    eval_split: Literal["dev", "test"] = "dev"
    near_duplicate_threshold: float = Field(default=0.9, gt=0, le=1)
    # A train case whose question (nearly) equals a test question: refuse to train, or drop the
    # train case and record it. Template questions that collide are always dropped.
    on_leak: Literal["refuse", "drop"] = "refuse"
    chunking: ChunkingConfig = Field(default_factory=ChunkingConfig)
    suites_dir: str | None = None  # folder of suites (a team's own); None = the repository's suites/
    # The YAML's folder: relative paths (base_model, output_dir, extra_notes_dir, suites_dir) resolve there.
    _base_dir: Path | None = PrivateAttr(default=None)

    def resolve(self, value: str | None) -> Path | None:
        """A path field relative to the config's folder (the working directory for configs built in code)."""
        if value is None:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() or self._base_dir is None else self._base_dir / path

    def load_suite(self) -> Suite:
        """The config's suite, from ``suites_dir`` when it names one."""
        return load_suite(*parse_suite_ref(self.suite), self.resolve(self.suites_dir))

    @model_validator(mode="after")
    def _evaluator_is_held_out(self) -> EmbeddingFinetuneConfig:
        if self.eval_split in self.train_splits:
            raise ValueError(
                f"eval_split {self.eval_split!r} is also in train_splits {self.train_splits}: the before/after "
                "evaluator would score questions the model trained on (use eval_split: test for a final fit)"
            )
        return self


def load_embedding_config(path: Path | str) -> EmbeddingFinetuneConfig:
    """Read a training YAML; unknown keys and bad values name the file and line."""
    located = load_yaml_config(path, "an embedding training YAML file (configs/training/<name>.yaml)")
    config = validate_yaml_model(EmbeddingFinetuneConfig, located)
    config._base_dir = Path(path).resolve().parent
    return config
