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
frozen copy as reference). On a CPU with native bf16 matmul (AMX / AVX512-BF16 / ARM BF16) they run
bf16 autocast over a bf16 frozen base by default, the LoRA weights in float32 (``cpu_precision`` writes
``bf16: true`` into the effective ``trainer_args``, so it is part of the fingerprint); elsewhere, and with
``trainer_args: {bf16: false}``, float32 as before, with the same fingerprints as before. TRL's fused LM
head runs through harness.variants.cpu_lm_head on CPU. Measured here (bench/bench_lora_precision.py):
1.76x the float32 tokens/s of the path before over 40 steps (1.88x over 6), final loss within 0.2%.
``trainer_args: {train_sampling_strategy: group_by_length}`` batches similar lengths.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError
from harness.hashing import payload_digest
from harness.models.embedded import EMBEDDED_LLM, model_identity
from harness.paths import harness_home
from harness.variants.config import TrainingConfig, load_training_config
from harness.variants.data import (
    BuiltDataset,
    build_datasets,
)
from harness.variants.lora_train import _last, _train_unit, _UnitResult, load_tokenizer, plan_units, select_device

# One training unit on a device (model loading, trainer) lives in harness.variants.lora_train; these names stay
# importable here, where callers have always found them.
from harness.variants.lora_train import (  # noqa: F401  isort: skip
    TrainingSkipped, attach_adapter, build_sft_trainer, cuda_available, last_checkpoint, load_base_model, log_rows,
)

if TYPE_CHECKING:
    from harness.candidate import CandidateSpec
    from harness.store import Store

COMPLETE_MARKER = "COMPLETE"
UNIT_DONE = "DONE"
LINEAGE_FILE = "lineage.json"
LOG_FILE = "training_log.json"
Log = Callable[[str], None]


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
    config = effective_config(config, base_model, base_dir, log, device)

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


def effective_config(config: TrainingConfig, base_model: str, base_dir: Path, log: Log,
                     device: str = "cpu") -> TrainingConfig:
    """The config with ``chat_template`` as Jinja text (the built-in 'plain' for a template-less base),
    ``lora.target_modules`` resolved for this architecture and CPU precision made explicit: what the
    weights depend on."""
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
                                     "trainer_args": cpu_precision(config.trainer_args, device),
                                     "lora": config.lora.model_copy(update={"target_modules": targets})})


def cpu_precision(trainer_args: dict[str, Any], device: str) -> dict[str, Any]:
    """On a CPU with native bf16 matmul, bf16 autocast (and so a bf16 frozen base) unless the config chose.

    Written into ``trainer_args`` as ``bf16: true``, so the fingerprint, the lineage and an explicit
    ``bf16: true`` config agree; ``trainer_args: {bf16: false}`` keeps float32. Measured here: 1.76x the
    float32 tokens/s over 40 steps, final loss within 0.2% (bench/bench_lora_precision.py). CUDA picks bf16 in
    ``common_args`` as before; CPUs without native bf16 stay float32 (emulated bf16 is slower).
    """
    from harness import cpu_features

    if device != "cpu" or "bf16" in trainer_args or trainer_args.get("fp16") or not cpu_features.has_native_bf16():
        return trainer_args
    return {**trainer_args, "bf16": True}


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
