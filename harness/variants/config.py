"""Typed LoRA / QLoRA training configs (``configs/training/*.yaml``).

Keys map one to one onto the pydantic fields below and unknown keys are errors, so a typo
(``learning_rat:``) fails in a second with ``file:line: field ...`` instead of silently
training with a default. Datasets are declared once at the top level and referenced by name
from stages and curriculum phases, so a mixture can reuse the same source at another ratio.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from harness.errors import ConfigError
from harness.hashing import payload_digest
from harness.yamlio import format_validation_error, load_yaml_config


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _alias(*names: str) -> AliasChoices:
    """Accept the harness's field name and the Hugging Face name (``epochs`` / ``num_train_epochs``)."""
    return AliasChoices(*names)


# ----------------------------------------------------------------------------- datasets


class _DatasetBase(_Strict):
    # None: inherit the config's top-level ``system``; "" means explicitly no system prompt.
    system: str | None = None
    max_examples: int | None = Field(default=None, gt=0)
    # Fraction held out for eval loss (ignored where the source has its own eval split).
    eval_fraction: float | None = Field(default=None, ge=0, lt=1)


class SuiteFilter(_Strict):
    """Which train cases of a suite to use; every list is an allow-list (empty = all)."""

    topics: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    case_ids: list[str] = Field(default_factory=list)
    exclude_case_ids: list[str] = Field(default_factory=list)
    require_reference: bool = True
    risk_levels: list[str] = Field(default_factory=list)


class SuiteTrainDataset(_DatasetBase):
    """The *train* split of a suite (never dev/test); references become assistant turns."""

    kind: Literal["suite_train"]
    suite: str = Field(description="'name' or 'name/version'")
    filter: SuiteFilter = Field(default_factory=SuiteFilter)
    # Eval loss on the suite's dev split (not trained on); "none" falls back to eval_fraction.
    eval_split: Literal["dev", "none"] = "dev"
    # None + no top-level system: use the suite's own prompt.system, as the candidate is scored with.
    use_suite_system: bool = True


class CounselChatDataset(_DatasetBase):
    """CounselChat answers (CSV from the nbertagnolli/counsel-chat repo, or a hub id when online)."""

    kind: Literal["counselchat_csv"]
    path: str | None = None  # None: ../shared/data/counselchat/20200325_counsel_chat.csv
    hub_id: str | None = None  # e.g. nbertagnolli/counsel-chat; only used when path is absent and online
    splits: list[Literal["train", "val", "test"]] = Field(default_factory=lambda: ["train"])
    best_answer_only: bool = True
    min_upvotes: int = 0
    max_answer_words: int | None = Field(default=250, gt=0)
    topics: list[str] = Field(default_factory=list)


class AnnomiDataset(_DatasetBase):
    """AnnoMI motivational-interviewing transcripts cut into windows ending on a therapist turn."""

    kind: Literal["annomi_windows"]
    path: str | None = None  # None: ../shared/data/annomi-dev/AnnoMI-full.csv
    mi_quality: list[Literal["high", "low"]] = Field(default_factory=lambda: ["high"])
    window_turns: int = Field(default=6, ge=2)  # merged turns per window (client and therapist)
    stride: int = Field(default=2, ge=1)  # use every stride-th therapist turn as a window end
    min_therapist_words: int = Field(default=8, ge=0)


class ChatJsonlDataset(_DatasetBase):
    """Records ``{"messages": [{"role", "content"}, ...]}`` ending on an assistant turn (JSON lines, or any
    file ``kind: chat`` reads)."""

    kind: Literal["chat_jsonl"]
    path: str


class PromptResponseJsonlDataset(_DatasetBase):
    """JSONL lines ``{"prompt": str, "response": str}`` (``completion`` accepted for ``response``)."""

    kind: Literal["prompt_response_jsonl"]
    path: str


class PreferenceJsonlDataset(_DatasetBase):
    """JSONL lines ``{"prompt", "chosen", "rejected"}`` (strings or message lists), as the playground exports."""

    kind: Literal["preference_jsonl"]
    path: str


class _FileDataset(_DatasetBase):
    """A team's own file: .json, .jsonl, .csv, .parquet or a ``datasets.save_to_disk`` folder."""

    path: str = Field(description="relative to the config's folder")
    format: Literal["auto", "json", "jsonl", "csv", "parquet", "hf_disk"] = "auto"
    split: str | None = Field(default=None, description="split of a saved DatasetDict (default: train)")
    columns: dict[str, str] = Field(default_factory=dict, description=(
        "harness field -> your column, e.g. {prompt: Context, response: Response}"))


class ChatDataset(_FileDataset):
    """SFT examples in any common shape (messages, conversations, prompt/response, instruction/input/output);
    see docs/data-formats.md."""

    kind: Literal["chat"]
    roles: dict[str, str] = Field(default_factory=dict, description=(
        "your speaker names -> user/assistant, e.g. {therapist: assistant, client: user}"))


class PreferenceDataset(_FileDataset):
    """Preference pairs ``prompt`` / ``chosen`` / ``rejected`` (text or messages) in any supported file."""

    kind: Literal["preference"]


DatasetSpec = Annotated[
    SuiteTrainDataset
    | CounselChatDataset
    | AnnomiDataset
    | ChatJsonlDataset
    | PromptResponseJsonlDataset
    | PreferenceJsonlDataset
    | ChatDataset
    | PreferenceDataset,
    Field(discriminator="kind"),
]
SFT_KINDS = {"suite_train", "counselchat_csv", "annomi_windows", "chat_jsonl", "prompt_response_jsonl", "chat"}
PREFERENCE_KINDS = {"preference_jsonl", "preference"}


# ----------------------------------------------------------------------------- stages


class Phase(_Strict):
    """One curriculum phase: a seeded mixture of datasets trained for max_steps or epochs."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    datasets: dict[str, float] = Field(min_length=1, description="dataset name -> mixing ratio (sums to 1)")
    max_steps: int | None = Field(default=None, gt=0, description="exactly this many optimizer steps")
    epochs: float | None = Field(default=None, gt=0, validation_alias=_alias("epochs", "num_train_epochs"))
    # Explicit mixture size; default: one epoch = the scarcest dataset used once at its ratio.
    num_examples: int | None = Field(default=None, gt=0)
    learning_rate: float = Field(default=2e-4, gt=0)
    warmup_ratio: float = Field(default=0.0, ge=0, lt=1)
    lr_scheduler_type: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "linear"

    @model_validator(mode="after")
    def _check(self) -> Phase:
        if (self.max_steps is None) == (self.epochs is None):
            raise ValueError("give exactly one of 'max_steps' or 'epochs'")
        bad = {k: v for k, v in self.datasets.items() if not (v > 0 and math.isfinite(v))}
        if bad:
            raise ValueError(f"mixing ratios must be > 0, got {bad}")
        total = sum(self.datasets.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"mixing ratios must sum to 1, got {total:g} ({self.datasets})")
        return self


class SFTStage(_Strict):
    type: Literal["sft"]
    name: str = Field(default="sft", pattern=r"^[A-Za-z0-9_.\-]+$")
    phases: list[Phase] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> SFTStage:
        names = [p.name for p in self.phases]
        if len(set(names)) != len(names):
            raise ValueError(f"phase names must be unique within a stage, got {names}")
        return self


class DPOStage(_Strict):
    """DPO on preference pairs; the reference is the adapter as this stage starts (a frozen copy)."""

    type: Literal["dpo"]
    name: str = Field(default="dpo", pattern=r"^[A-Za-z0-9_.\-]+$")
    dataset: str
    max_steps: int | None = Field(default=None, gt=0)
    epochs: float | None = Field(default=None, gt=0, validation_alias=_alias("epochs", "num_train_epochs"))
    learning_rate: float = Field(default=5e-6, gt=0)
    beta: float = Field(default=0.1, gt=0)
    loss_type: Literal["sigmoid", "hinge", "ipo", "robust"] = "sigmoid"
    warmup_ratio: float = Field(default=0.0, ge=0, lt=1)
    lr_scheduler_type: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "linear"

    @model_validator(mode="after")
    def _check(self) -> DPOStage:
        if (self.max_steps is None) == (self.epochs is None):
            raise ValueError("give exactly one of 'max_steps' or 'epochs'")
        return self


Stage = Annotated[SFTStage | DPOStage, Field(discriminator="type")]


# ----------------------------------------------------------------------------- model and trainer


class LoraSettings(_Strict):
    """peft's LoraConfig; ``lora_alpha``/``lora_dropout`` (peft's names) or ``alpha``/``dropout``."""

    r: int = Field(default=16, gt=0)
    alpha: int = Field(default=32, gt=0, validation_alias=_alias("alpha", "lora_alpha"))
    dropout: float = Field(default=0.05, ge=0, lt=1, validation_alias=_alias("dropout", "lora_dropout"))
    target_modules: list[str] | Literal["all-linear", "auto"] = Field(
        default="auto", description="auto: chosen per architecture (q/k/v/o_proj for Llama-style, c_attn for "
        "GPT-2 style, peft's table, else all-linear); or a list of module names, or all-linear")
    bias: Literal["none", "all", "lora_only"] = "none"
    # Only these decoder layers get adapters (peft's layers_to_transform). Adapting the top layers
    # only is ~1.5-2x faster on CPU: backpropagation stops at the lowest adapted layer.
    layers_to_transform: list[int] | None = None


class TrainingSettings(_Strict):
    """Trainer knobs shared by every stage (a stage only sets what changes between phases)."""

    max_length: int = Field(default=512, gt=8, validation_alias=_alias("max_length", "max_seq_length"))
    per_device_train_batch_size: int = Field(default=4, gt=0)
    per_device_eval_batch_size: int = Field(default=8, gt=0)
    gradient_accumulation_steps: int = Field(default=1, gt=0)
    # TRL defaults to True; on CPU with a 135M model it only costs time, so off unless asked.
    gradient_checkpointing: bool = False
    weight_decay: float = Field(default=0.0, ge=0)
    max_grad_norm: float = Field(default=1.0, gt=0)
    # assistant: loss on every assistant turn (generation-marked chat template);
    # last_assistant: prompt/completion format, loss on the final assistant turn only.
    loss_on: Literal["assistant", "last_assistant"] = "assistant"
    eval_fraction: float = Field(default=0.1, ge=0, lt=1)
    max_eval_examples: int = Field(default=32, ge=0)
    eval_steps: int | None = Field(default=None, gt=0)  # None: evaluate once at the end of each phase
    save_steps: int = Field(default=50, gt=0)
    save_total_limit: int = Field(default=2, gt=0)
    logging_steps: int = Field(default=1, gt=0)
    resume: bool = True  # resume an interrupted phase from its last checkpoint
    device: Literal["auto", "cpu", "cuda"] = "auto"  # or Hugging Face's use_cpu: true
    num_threads: int | None = Field(default=None, gt=0)  # torch.set_num_threads; None leaves the default


    @model_validator(mode="before")
    @classmethod
    def _use_cpu(cls, data: Any) -> Any:
        """Hugging Face's ``use_cpu: true`` is ``device: cpu`` (``false``: auto)."""
        if isinstance(data, dict) and "use_cpu" in data:
            data = dict(data)
            use_cpu = data.pop("use_cpu")
            if not isinstance(use_cpu, bool):
                raise ValueError(f"use_cpu must be true or false, got {use_cpu!r}")
            wanted = "cpu" if use_cpu else data.get("device", "auto")
            if data.get("device", wanted) != wanted:
                raise ValueError(f"use_cpu: {use_cpu} contradicts device: {data['device']}")
            data["device"] = wanted
        return data


class ExportSettings(_Strict):
    """Optional Ollama export written next to the adapter after training."""

    ollama: bool = False
    base_from: str = "smollm2:135m"  # the base model's Ollama tag
    merged: bool = False  # FROM a merged safetensors folder instead of base + ADAPTER


class TrainingConfig(_Strict):
    """One training YAML; see configs/training/therapy-lora.yaml for a commented example."""

    kind: Literal["lora"] = "lora"
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    base_model: str | None = None  # None: the candidate's model
    seed: int = 0
    system: str | None = None  # default system prompt for datasets that set none
    datasets: dict[str, DatasetSpec] = Field(min_length=1)
    stages: list[Stage] = Field(min_length=1)
    lora: LoraSettings = Field(default_factory=LoraSettings)
    quantization: Literal["none", "4bit"] = "none"
    base_dtype: Literal["auto", "float32", "bfloat16"] = Field(default="auto", description=(
        "dtype of the frozen base weights (LoRA weights stay float32); auto: bfloat16 on CUDA with bf16, and on "
        "CPU under bf16 autocast (the default on CPUs with native bf16 matmul, or trainer_args bf16: true; "
        "autocast would cast every weight at each product anyway), else float32"))
    skip_if_no_cuda: bool = False  # 4bit without CUDA: raise TrainingSkipped instead of ConfigError
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    export: ExportSettings = Field(default_factory=ExportSettings)
    chat_template: str | None = Field(default=None, description=(
        "built-in name (plain, chatml, dialogpt), Jinja string or .jinja file; default: the tokenizer's own, "
        "or 'plain' for a base without one"))
    trainer_args: dict[str, Any] = Field(default_factory=dict, description=(
        "passed to every unit's SFTConfig / DPOConfig (TrainingArguments fields: optim, bf16, "
        "neftune_noise_alpha, ...); checked against those classes when the config loads"))
    lora_args: dict[str, Any] = Field(default_factory=dict, description=(
        "passed to peft's LoraConfig (use_dora, use_rslora, modules_to_save, ...); checked against its fields"))
    suites_dir: str | None = Field(default=None, description="folder of suites for suite_train datasets")

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> TrainingConfig:
        # load_training_config checks references itself, to point at the offending line.
        if info.context and info.context.get("defer_references"):
            return self
        problems = self.reference_problems()
        if problems:
            raise ValueError("; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg in problems))
        return self

    def reference_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Stage/phase references to undeclared or wrong-kind datasets, with their YAML paths."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        names = [s.name for s in self.stages]
        for index, stage in enumerate(self.stages):
            if names.count(stage.name) > 1:
                problems.append((("stages", index, "name"), f"stage name {stage.name!r} is used twice; "
                                 "set a distinct 'name:' on repeated stage types"))
            if isinstance(stage, SFTStage):
                for p_index, phase in enumerate(stage.phases):
                    for ds in phase.datasets:
                        loc = ("stages", index, "phases", p_index, "datasets", ds)
                        problems += self._check_ref(ds, SFT_KINDS, loc)
            else:
                problems += self._check_ref(stage.dataset, PREFERENCE_KINDS, ("stages", index, "dataset"))
        if isinstance(self.stages[0], DPOStage) and self.quantization != "none":
            problems.append((("quantization",), "a 4bit pipeline must start with an SFT stage"))
        return problems

    def _check_ref(self, name: str, kinds: set[str], loc: tuple[str | int, ...]) -> list[tuple[Any, str]]:
        if name not in self.datasets:
            return [(loc, f"unknown dataset {name!r} (declared under 'datasets:': {', '.join(self.datasets)})")]
        kind = self.datasets[name].kind
        if kind not in kinds:
            return [(loc, f"dataset {name!r} is {kind}; this stage needs one of {', '.join(sorted(kinds))}")]
        return []

    def config_hash(self) -> str:
        return payload_digest(self.fingerprint_payload())

    def fingerprint_payload(self) -> dict[str, Any]:
        """The config as it affects the weights: operational switches (resume, logging) left out."""
        data = self.model_dump(mode="json")
        data["training"] = {k: v for k, v in data["training"].items()
                            if k not in {"resume", "logging_steps", "save_total_limit", "num_threads"}}
        data.pop("description", None)
        data.pop("export", None)
        data.pop("suites_dir", None)  # where the suites live; their content enters via the data hashes
        for key in ("chat_template", "trainer_args", "lora_args"):  # absent keys keep older fingerprints
            if not data.get(key):
                data.pop(key, None)
        if data["base_dtype"] == "auto" and not self.trainer_args.get("bf16"):
            data.pop("base_dtype")  # float32 on CPU as before; under bf16, auto now means a bf16 base on CPU too
        return data


def load_training_config(path: Path | str) -> TrainingConfig:
    """Read a training YAML; errors name the file, line and field."""
    path = Path(path)
    located = load_yaml_config(path, "a training YAML file (configs/training/<name>.yaml)")
    if located.data.get("kind", "lora") != "lora":
        raise ConfigError(
            f"{path}:{located.line_of(['kind'])}: field 'kind': this is a {located.data.get('kind')!r} config, "
            "not a LoRA training config (see harness.variants.embedding for embedding fine-tunes)",
        )

    try:
        config = TrainingConfig.model_validate(located.data, context={"defer_references": True})
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, path, located.line_of, data=located.data)) from None
    problems = config.reference_problems()
    if config.trainer_args or config.lora_args:  # imports trl/peft: only when there is something to check
        from harness.variants.passthrough import passthrough_problems

        problems += passthrough_problems(config)
    if problems:
        raise ConfigError("\n".join(
            f"{path}:{located.line_of(loc)}: field '{'.'.join(map(str, loc))}': {message}"
            for loc, message in problems
        ))
    return config
