"""LoRA / QLoRA fine-tuning: curriculum SFT phases, DPO, sequential stages, lineage and resume.

A training config is a pipeline of *units* run in order on one adapter: every phase of an SFT
stage, then e.g. a DPO stage. Each unit starts from the previous unit's adapter, gets a fresh
TRL trainer (its own learning rate and data mixture) and writes into
``$HARNESS_HOME/adapters/<fingerprint>/stages/<i>-<stage>/<j>-<phase>/``:

- ``checkpoints/``: Trainer checkpoints; an interrupted unit resumes from the newest one
  (optimizer, scheduler, RNG and data position included), so a crash costs at most
  ``save_steps`` steps.
- ``adapter/`` + ``DONE`` once finished: a rerun skips finished units.

The fingerprint hashes the base model's identity, every dataset's content hash, the config as
it affects the weights and the trl/peft/transformers/torch versions. ``COMPLETE`` next to the
final ``adapter/`` makes a second identical training a no-op. The loss history (one row per
logging step and per evaluation, tagged with stage and phase) goes to the store's
``training_runs`` table and ``training_log.json`` so reports can draw training curves.

The library's own trainers do the work (``SFTTrainer``, ``DPOTrainer`` with the adapter's
frozen copy as reference); on CPU they run float32 by default (``use_cpu=True, bf16=False``), which
keeps existing adapters' fingerprints and weights. bf16 autocast is opt-in with ``trainer_args: {bf16:
true}`` (part of the fingerprint): on CPUs with native bf16 matmul (AMX / AVX512-BF16) it trained 1.6x
faster here with the same loss to 0.01 (bench/bench_lora_precision.py); on CPUs without it, it can be
slower than float32. ``trainer_args: {train_sampling_strategy: group_by_length}`` batches similar lengths.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError, HarnessError
from harness.hashing import payload_digest
from harness.models.embedded import EMBEDDED_LLM, model_identity, resolve_model_path
from harness.paths import harness_home
from harness.variants.common import common_args, fit_to_length
from harness.variants.config import DPOStage, Phase, SFTStage, TrainingConfig, load_training_config
from harness.variants.data import (
    BuiltDataset,
    build_datasets,
    mix_phase,
    phase_eval_records,
    phase_size,
    records_to_dataset,
    to_prompt_completion,
    training_chat_template,
)

if TYPE_CHECKING:
    from harness.candidate import CandidateSpec
    from harness.store import Store

COMPLETE_MARKER = "COMPLETE"
UNIT_DONE = "DONE"
LINEAGE_FILE = "lineage.json"
LOG_FILE = "training_log.json"
_LOG_KEYS = ("loss", "eval_loss", "learning_rate", "epoch", "grad_norm", "num_tokens", "mean_token_accuracy",
             "eval_mean_token_accuracy")
Log = Callable[[str], None]


class TrainingSkipped(HarnessError):
    """A 4-bit (QLoRA) config met a machine without CUDA and asked to be skipped there."""


@dataclass
class TrainedAdapter:
    """What ``harness run`` needs from a training: the adapter folder and its lineage."""

    adapter_path: str
    fingerprint: str
    output_dir: str
    lineage: dict[str, Any]
    reused: bool = False
    export_dir: str | None = None

    @property
    def log(self) -> list[dict[str, Any]]:
        return list(self.lineage.get("loss_history", []))


@dataclass
class _Unit:
    """One trainer run: an SFT phase or a DPO stage."""

    stage_index: int
    stage: SFTStage | DPOStage
    phase: Phase | None
    directory: Path

    @property
    def label(self) -> str:
        return f"{self.stage.name}/{self.phase.name}" if self.phase else self.stage.name

    @property
    def phase_name(self) -> str:
        return self.phase.name if self.phase else self.stage.name


@dataclass
class _UnitResult:
    rows: list[dict[str, Any]]
    metrics: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- identity


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("trl", "peft", "transformers", "torch"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "missing"
    return out


def training_fingerprint(config: TrainingConfig, base_identity: str, built: dict[str, BuiltDataset]) -> str:
    """Hash of everything that changes the adapter's weights."""
    payload = {
        "base": base_identity,
        "data": {name: b.content_hash for name, b in sorted(built.items())},
        "config": config.fingerprint_payload(),
        "versions": library_versions(),
    }
    return payload_digest(payload)[:16]


def adapters_root() -> Path:
    return harness_home() / "adapters"


# ----------------------------------------------------------------------------- entry points


def train_adapter_for_candidate(spec: CandidateSpec, base_dir: Path, store: Store | None,
                                log: Log = print) -> TrainedAdapter:
    """Train (or reuse) the adapter a candidate's ``train:`` config describes; ``harness run`` calls this.

    The adapter is trained on the candidate's ``model`` (a config's ``base_model`` must agree),
    because that is the model the transformers backend will load it onto.
    """
    if spec.train is None:
        raise ConfigError(f"candidate {spec.name!r}: no 'train' config")
    if spec.backend != "transformers":
        raise ConfigError(
            f"candidate {spec.name!r}: field 'train' needs backend 'transformers' (got {spec.backend!r})",
            hint="train with a transformers candidate, then serve the export (export: {ollama: true}) with Ollama",
        )
    from harness.candidate import Candidate

    spec = Candidate(spec, base_dir).spec  # Modelfile FROM and `model: ./x` resolved as the run will
    path = candidate_training_config_path(spec.train, base_dir, spec.name)
    config = load_training_config(path)
    if spec.chat_template and config.chat_template and spec.chat_template != config.chat_template:
        raise ConfigError(
            f"candidate {spec.name!r}: chat_template {spec.chat_template!r:.60} differs from {path}'s "
            f"chat_template {config.chat_template!r:.60}",
            hint="an adapter is scored with the template it was trained with: set it in one place",
        )
    if spec.chat_template and not config.chat_template:
        config = config.model_copy(update={"chat_template": spec.chat_template})
    if config.base_model and model_identity(config.base_model) != model_identity(spec.model):
        raise ConfigError(
            f"candidate {spec.name!r}: model {spec.model!r} differs from base_model {config.base_model!r} in {path}",
            hint=f"set the candidate's 'model: {config.base_model}' (an adapter fits only the model it was trained on)",
        )
    trained = train_from_config(config, config_path=path, base_model=spec.model, store=store, log=log,
                                export=False)
    trained.lineage["candidate"] = spec.name
    # An `export: {ollama: true}` config is exported by the candidate factory (harness.factory), which
    # has the built candidate whose prompt the export carries.
    return trained


def config_suites_dir(config: TrainingConfig, config_path: Path | None) -> Path | None:
    """The config's ``suites_dir``, relative to its own folder."""
    if not config.suites_dir:
        return None
    path = Path(config.suites_dir).expanduser()
    if not path.is_absolute():
        path = (config_path.resolve().parent if config_path else Path.cwd()) / path
    if not path.is_dir():
        raise ConfigError(f"{config_path or config.name}: field 'suites_dir': {path} is not a folder")
    return path


def candidate_training_config_path(value: str, base_dir: Path, name: str) -> Path:
    """A candidate's ``train:`` value as a path: absolute, else relative to the config's folder, then cwd."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    for base in (base_dir, Path.cwd()):
        if (base / path).exists():
            return (base / path).resolve()
    raise ConfigError(f"candidate {name!r}: field 'train': {value!r} not found (looked in {base_dir} and {Path.cwd()})")


def train_from_config(
    config: TrainingConfig | str | Path,
    *,
    config_path: Path | None = None,
    base_model: str | None = None,
    base_dir: Path | None = None,
    store: Store | None = None,
    output_root: Path | None = None,
    suites_dir: Path | None = None,
    callbacks: Sequence[Any] = (),
    log: Log = print,
    export: bool = True,
) -> TrainedAdapter:
    """Run (or resume, or reuse) a training pipeline and return the final adapter.

    ``base_dir`` resolves the config's relative paths (default: the config's folder);
    ``callbacks`` are extra ``transformers.TrainerCallback``s given to every trainer;
    ``export``: write the Ollama export when the config asks for one (``export: {ollama: true}``).
    """
    if not isinstance(config, TrainingConfig):
        config_path = Path(config)
        config = load_training_config(config_path)
    if base_dir is None:
        base_dir = config_path.resolve().parent if config_path else Path.cwd()
    suites_dir = suites_dir or config_suites_dir(config, config_path)
    base_model = _resolve_base_model(base_model or config.base_model or EMBEDDED_LLM, base_dir)
    device = select_device(config)
    from harness.variants.passthrough import check_passthrough

    check_passthrough(config, str(config_path or config.name))
    config = effective_config(config, base_model, base_dir, log)

    built = build_datasets(config, base_dir, suites_dir)
    base_identity = model_identity(base_model)
    fingerprint = training_fingerprint(config, base_identity, built)
    root = (output_root or adapters_root()) / fingerprint
    config_json = {"name": config.name, "path": str(config_path) if config_path else None,
                   "config": config.model_dump(mode="json")}
    trained = _reuse(root, fingerprint, config, config_json, store, log)
    if trained is None:
        root.mkdir(parents=True, exist_ok=True)
        with _exclusive(root / ".lock", log):
            trained = _reuse(root, fingerprint, config, config_json, store, log)  # another process just finished
            if trained is None:
                trained = _run_pipeline(config, config_path, config_json, base_model, base_identity, fingerprint,
                                        root, built, device, store, callbacks, log)
    if config.chat_template:
        trained.lineage["chat_template"] = config.chat_template
    if export and config.export.ollama:
        from harness.variants.export import export_for_training

        exported = export_for_training(config, trained, base_model, suites_dir)
        trained.export_dir = str(exported.directory)
        log(f"{config.name}: Ollama export in {exported.directory} (serve: harness models create NAME "
            f"--modelfile {exported.modelfile_path})")
    return trained


def _resolve_base_model(value: str, base_dir: Path) -> str:
    """``base_model: ./x`` is relative to the config's folder, like every path in a config."""
    from harness.models.from_base import resolve_model_path_field

    return resolve_model_path_field(value, base_dir, "base_model")


def effective_config(config: TrainingConfig, base_model: str, base_dir: Path, log: Log) -> TrainingConfig:
    """The config with ``chat_template`` as Jinja text (the built-in 'plain' for a template-less base)
    and ``lora.target_modules`` resolved for this architecture: what the weights depend on."""
    from harness.models.chat_templates import (
        DEFAULT_FOR_TEMPLATELESS,
        has_template,
        resolve_chat_template,
        templateless_message,
    )
    from harness.variants.targets import context_length_of, model_type_of, resolve_targets

    template = resolve_chat_template(config.chat_template, base_dir=base_dir) if config.chat_template else None
    if template is None and not has_template(load_tokenizer(base_model)):
        log(f"warning: {templateless_message(base_model)}")
        template = resolve_chat_template(DEFAULT_FOR_TEMPLATELESS)
    targets = resolve_targets(config.lora.target_modules, model_type_of(base_model))
    training = config.training
    context = context_length_of(base_model)
    if context and training.max_length > context:  # GPT-2: 1024 positions; longer rows would crash
        log(f"warning: training.max_length {training.max_length} exceeds {base_model}'s context of {context} "
            f"tokens; using {context}")
        training = training.model_copy(update={"max_length": context})
    return config.model_copy(update={"chat_template": template, "training": training,
                                     "lora": config.lora.model_copy(update={"target_modules": targets})})


def _reuse(root: Path, fingerprint: str, config: TrainingConfig, config_json: dict[str, Any], store: Store | None,
           log: Log) -> TrainedAdapter | None:
    if not (root / COMPLETE_MARKER).exists():
        return None
    lineage = json.loads((root / LINEAGE_FILE).read_text())
    if store is not None and store.training_run(fingerprint) is None:
        store.save_training_run(fingerprint, "lora", "finished", str(root), config_json,
                                lineage.get("metrics", {}), lineage.get("loss_history", []))
    log(f"{config.name}: adapter {fingerprint} already trained, reusing {root / 'adapter'}")
    return TrainedAdapter(str(root / "adapter"), fingerprint, str(root), lineage, reused=True)


@contextmanager
def _exclusive(path: Path, log: Log) -> Iterator[None]:
    """One process per adapter folder; a second one waits, then reuses the finished adapter."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks, run one training at a time
        yield
        return
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"another process is training into {path.parent}; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_pipeline(config: TrainingConfig, config_path: Path | None, config_json: dict[str, Any], base_model: str,
                  base_identity: str, fingerprint: str, root: Path, built: dict[str, BuiltDataset], device: str,
                  store: Store | None, callbacks: Sequence[Any], log: Log) -> TrainedAdapter:
    datasets_summary = {name: b.summary() for name, b in built.items()}
    (root / "config.json").write_text(json.dumps({**config_json, "datasets": datasets_summary}, indent=2))
    units = plan_units(config, root)
    history: list[dict[str, Any]] = []
    unit_metrics: list[dict[str, Any]] = []
    previous: Path | None = None
    offset = 0
    started = time.perf_counter()
    log(f"{config.name}: training {len(units)} unit(s) on {base_model} ({device}) -> {root}")
    try:
        for unit in units:
            done = unit.directory / UNIT_DONE
            if done.exists():
                result = _UnitResult(**json.loads(done.read_text()))
                log(f"{config.name}: {unit.label} already trained, reusing it")
            else:
                result = _train_unit(unit, config, base_model, previous, built, device, offset, callbacks, log)
                done.write_text(json.dumps({"rows": result.rows, "metrics": result.metrics}, default=str))
                shutil.rmtree(unit.directory / "checkpoints", ignore_errors=True)
            history += result.rows
            unit_metrics.append(result.metrics)
            offset += int(result.metrics.get("steps", 0))
            previous = unit.directory / "adapter"
            if store is not None:
                store.save_training_run(fingerprint, "lora", "running", str(root), config_json,
                                        {"units": unit_metrics}, history)
    except BaseException as exc:
        if store is not None:  # either way the next run resumes from the last checkpoint
            status = "failed" if isinstance(exc, Exception) else "interrupted"
            store.save_training_run(fingerprint, "lora", status, str(root), config_json,
                                    {"units": unit_metrics, "error": f"{type(exc).__name__}: {exc}"}, history)
        raise

    assert previous is not None
    final = root / "adapter"
    if final.exists():
        shutil.rmtree(final)
    shutil.copytree(previous, final)
    metrics = {
        "units": unit_metrics,
        "seconds": round(time.perf_counter() - started, 2),
        "final_loss": _last(history, "loss"),
        "final_eval_loss": _last(history, "eval_loss"),
    }
    lineage = {
        "kind": "lora",
        "fingerprint": fingerprint,
        "config_name": config.name,
        "config_path": str(config_path) if config_path else None,
        "config": config.model_dump(mode="json"),
        "base_model": base_model,
        "base_identity": base_identity,
        "datasets": datasets_summary,
        "versions": library_versions(),
        "device": device,
        "adapter_path": str(final),
        "metrics": metrics,
        "loss_history": history,
    }
    (root / LOG_FILE).write_text(json.dumps(history, indent=1, default=str))
    (root / LINEAGE_FILE).write_text(json.dumps(lineage, indent=2, default=str))
    (root / COMPLETE_MARKER).write_text(time.strftime("%Y-%m-%dT%H:%M:%S"))
    if store is not None:
        store.save_training_run(fingerprint, "lora", "finished", str(root), config_json, metrics, history)
    log(f"{config.name}: adapter {fingerprint} trained in {metrics['seconds']:.0f}s "
        f"(final loss {metrics['final_loss']}, eval loss {metrics['final_eval_loss']})")
    return TrainedAdapter(str(final), fingerprint, str(root), lineage)


def _last(rows: Sequence[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return values[-1] if values else None


def plan_units(config: TrainingConfig, root: Path) -> list[_Unit]:
    units = []
    for s_index, stage in enumerate(config.stages):
        stage_dir = root / "stages" / f"{s_index}-{stage.name}"
        if isinstance(stage, SFTStage):
            for p_index, phase in enumerate(stage.phases):
                units.append(_Unit(s_index, stage, phase, stage_dir / f"{p_index}-{phase.name}"))
        else:
            units.append(_Unit(s_index, stage, None, stage_dir))
    return units


# ----------------------------------------------------------------------------- devices and models


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return bool(torch.cuda.is_available())


def select_device(config: TrainingConfig) -> str:
    """'cpu' or 'cuda'; 4-bit needs CUDA and bitsandbytes, and says so before any work starts."""
    has_cuda = cuda_available()
    if config.quantization == "4bit":
        if not has_cuda:
            message = (f"training config {config.name!r}: quantization '4bit' (QLoRA) needs a CUDA GPU and "
                       "bitsandbytes; this machine has no CUDA device")
            if config.skip_if_no_cuda:
                raise TrainingSkipped(message + " (skip_if_no_cuda: true)")
            raise ConfigError(message, hint="use 'quantization: none' on CPU, or set 'skip_if_no_cuda: true'")
        try:
            import bitsandbytes  # noqa: F401
        except ImportError:
            raise ConfigError(f"training config {config.name!r}: quantization '4bit' needs bitsandbytes",
                              hint="pip install bitsandbytes") from None
    if config.quantization == "4bit" and config.training.device == "cpu":
        raise ConfigError(f"training config {config.name!r}: quantization '4bit' cannot run with training.device 'cpu'")
    if config.training.device == "cuda" and not has_cuda:
        raise ConfigError(f"training config {config.name!r}: field 'training.device' is 'cuda' but no GPU is visible")
    if config.training.device == "cpu":
        return "cpu"
    return "cuda" if has_cuda else "cpu"


def load_tokenizer(base_model: str, chat_template: str | None = None) -> Any:
    """The base's tokenizer; ``chat_template`` (Jinja text) replaces its own template."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(base_model))
    if chat_template:
        tokenizer.chat_template = chat_template
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_base_model(base_model: str, config: TrainingConfig, device: str) -> Any:
    """float32 on CPU; bf16 on CUDA; NF4 + double quantization for QLoRA."""
    import torch
    from transformers import AutoModelForCausalLM

    path = resolve_model_path(base_model)
    if config.quantization == "4bit":
        from peft import prepare_model_for_kbit_training
        from transformers import BitsAndBytesConfig

        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                   bnb_4bit_compute_dtype=torch.bfloat16)
        model = AutoModelForCausalLM.from_pretrained(path, quantization_config=quant, dtype=torch.bfloat16,
                                                     device_map={"": 0})
        return prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=config.training.gradient_checkpointing)
    dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    return AutoModelForCausalLM.from_pretrained(path, dtype=dtype)


def attach_adapter(model: Any, config: TrainingConfig, previous: Path | None) -> Any:
    """A fresh LoRA adapter, or the previous unit's adapter made trainable again."""
    from peft import LoraConfig, PeftModel, get_peft_model

    from harness.variants.targets import FAN_IN_FAN_OUT, check_targets, resolve_targets

    if previous is not None:
        return PeftModel.from_pretrained(model, str(previous), is_trainable=True)
    lora = config.lora
    model_type = getattr(model.config, "model_type", None)
    targets = resolve_targets(lora.target_modules, model_type)
    check_targets(model, targets)
    extra = {"fan_in_fan_out": True} if model_type in FAN_IN_FAN_OUT else {}
    try:
        return get_peft_model(model, LoraConfig(**{
            "r": lora.r, "lora_alpha": lora.alpha, "lora_dropout": lora.dropout, "target_modules": targets,
            "bias": lora.bias, "task_type": "CAUSAL_LM", "layers_to_transform": lora.layers_to_transform,
            **extra, **config.lora_args}))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"training config {config.name!r}: peft cannot add LoRA adapters to this "
                          f"{model_type} model: {str(exc).splitlines()[0]}",
                          hint="check lora.target_modules (auto picks them per architecture) and lora_args") from None


def last_checkpoint(directory: Path) -> Path | None:
    """The newest complete ``checkpoint-N`` folder (one holding trainer_state.json)."""
    if not directory.is_dir():
        return None
    found = [(int(p.name.split("-")[-1]), p) for p in directory.glob("checkpoint-*")
             if p.name.split("-")[-1].isdigit() and (p / "trainer_state.json").exists()]
    return max(found)[1] if found else None


def _train_unit(unit: _Unit, config: TrainingConfig, base_model: str, previous: Path | None,
                built: dict[str, BuiltDataset], device: str, offset: int, callbacks: Sequence[Any],
                log: Log) -> _UnitResult:
    import torch

    if config.training.num_threads:
        torch.set_num_threads(config.training.num_threads)
    else:
        from harness.threads import configure_torch

        configure_torch(torch)  # threads = CPUs this process may use (harness.threads)
    from transformers import set_seed

    set_seed(config.seed)  # LoRA's A matrices are random: same config, same initial adapter
    tokenizer = load_tokenizer(base_model, config.chat_template)
    model = attach_adapter(load_base_model(base_model, config, device), config, previous)
    checkpoints = unit.directory / "checkpoints"
    resume = last_checkpoint(checkpoints) if config.training.resume else None
    if resume is None and checkpoints.exists():
        shutil.rmtree(checkpoints)  # stale checkpoints of a run we are not resuming
    if isinstance(unit.stage, SFTStage):
        assert unit.phase is not None
        trainer, info = build_sft_trainer(unit.phase, config, model, tokenizer, built, device, checkpoints,
                                          callbacks)
    else:
        from harness.variants.dpo import build_dpo_trainer

        trainer, info = build_dpo_trainer(unit.stage, config, model, tokenizer, built, device, checkpoints,
                                          callbacks)
    resumed_step = int(resume.name.split("-")[-1]) if resume else None
    log(f"{config.name}: {unit.label}: {info['examples']} examples, {trainer.args.max_steps} steps"
        + (f", resuming from step {resumed_step}" if resume else ""))
    began = time.perf_counter()
    before = _trainable_snapshot(trainer.model)
    output = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    change = _weight_change(trainer.model, before)
    if change == 0.0:
        log(f"warning: {config.name}: {unit.label} changed no adapter weight (learning rate, steps or loss "
            "mask?); its outputs will equal the starting model's")
    if trainer.eval_dataset is not None and config.training.eval_steps is None:
        trainer.evaluate()
    seconds = time.perf_counter() - began
    adapter_dir = unit.directory / "adapter"
    trainer.model.save_pretrained(str(adapter_dir), selected_adapters=["default"])
    rows = log_rows(trainer.state.log_history, stage=unit.stage.name, phase=unit.phase_name,
                    kind=unit.stage.type, offset=offset)
    tokens = _last(rows, "num_tokens")
    runtime = float(output.metrics.get("train_runtime", seconds))
    metrics = {
        "stage": unit.stage.name, "phase": unit.phase_name, "type": unit.stage.type,
        "steps": trainer.state.global_step, "resumed_from_step": resumed_step,
        "train_runtime": round(runtime, 3), "seconds": round(seconds, 3),
        "num_tokens": tokens, "tokens_per_second": round(tokens / runtime, 2) if tokens and runtime else None,
        "final_loss": _last(rows, "loss"), "eval_loss": _last(rows, "eval_loss"),
        "max_weight_change": change, **info,
    }
    return _UnitResult(rows, metrics)


def _trainable_snapshot(model: Any) -> dict[str, Any]:
    """Copies of the trainable (LoRA) tensors: small, and the only ones training may change."""
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def _weight_change(model: Any, before: dict[str, Any]) -> float | None:
    """Largest absolute change of any trainable weight (0.0: training did nothing); None when unknown."""
    changes = [float((p.detach() - before[name]).abs().max()) for name, p in model.named_parameters()
               if name in before and p.shape == before[name].shape]
    return max(changes) if changes else None


def build_sft_trainer(phase: Phase, config: TrainingConfig, model: Any, tokenizer: Any,
                      built: dict[str, BuiltDataset], device: str, output_dir: Path,
                      callbacks: Sequence[Any] = ()) -> tuple[Any, dict[str, Any]]:
    """An SFTTrainer for one curriculum phase, with its seeded mixture and loss mask chosen."""
    from trl import SFTConfig, SFTTrainer

    from harness.variants.passthrough import trainer_kwargs

    t = config.training
    per_step = t.per_device_train_batch_size * t.gradient_accumulation_steps
    usable, too_long = fit_to_length({n: built[n] for n in phase.datasets}, tokenizer, t.max_length)
    mixed, counts = mix_phase(phase, usable, phase_size(phase, usable, per_step), config.seed)
    held = phase_eval_records(phase, usable, t.max_eval_examples, config.seed)
    template = training_chat_template(tokenizer) if t.loss_on == "assistant" else None
    if template is not None:
        tokenizer.chat_template = template
        train_ds, eval_ds = records_to_dataset(mixed), (records_to_dataset(held) if held else None)
        mode = "assistant_only"
    else:
        train_ds = records_to_dataset(to_prompt_completion(mixed))
        eval_ds = records_to_dataset(to_prompt_completion(held)) if held else None
        mode = "last_assistant"
    # max_steps means exactly that many steps, even when the mixture drew a few extra records
    # (every listed source gets at least one).
    steps = phase.max_steps or math.ceil(len(mixed) / per_step)
    args = SFTConfig(**{
        **common_args(config, device, eval_ds is not None, output_dir, steps,
                      phase.learning_rate, phase.lr_scheduler_type, phase.warmup_ratio),
        "assistant_only_loss": mode == "assistant_only",
        "completion_only_loss": True if mode == "last_assistant" else None,
        "packing": False,
        **trainer_kwargs(config, SFTConfig),
    })
    trainer = SFTTrainer(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                         processing_class=tokenizer, callbacks=list(callbacks))
    return trainer, {"examples": len(mixed), "mixture": counts, "eval_examples": len(held), "loss_mask": mode,
                     "learning_rate": phase.learning_rate, "dropped_too_long": too_long}


def log_rows(history: Sequence[dict[str, Any]], *, stage: str, phase: str, kind: str,
             offset: int) -> list[dict[str, Any]]:
    """Trainer log_history -> rows {step, phase_step, loss, eval_loss, learning_rate, epoch, stage, phase}.

    ``step`` counts across the whole pipeline, so curves of successive phases join up.
    """
    rows = []
    for entry in history:
        if "loss" not in entry and "eval_loss" not in entry:
            continue  # the end-of-training summary (train_loss, train_runtime)
        row: dict[str, Any] = {"step": offset + int(entry.get("step", 0)), "phase_step": int(entry.get("step", 0)),
                               "stage": stage, "phase": phase, "type": kind}
        for key in _LOG_KEYS:
            row[key] = entry.get(key)
        for key, value in entry.items():
            if key.startswith(("rewards/", "eval_rewards/")):
                row[key] = value
        rows.append(row)
    return rows
