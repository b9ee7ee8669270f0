"""Merge a LoRA adapter into its base, and export adapters for Ollama.

An export folder is self-contained: ``adapter/`` (``adapter_model.safetensors`` +
``adapter_config.json``) or ``model/`` (merged safetensors) plus a ``Modelfile`` that refers to
them by relative path, so the folder can be copied to the machine running Ollama and served with
``ollama create <name> -f Modelfile``.

The Modelfile must reproduce the prompt the candidate was scored with: same SYSTEM, decoding
parameters and ChatML template. SmolLM2's Hugging Face template inserts a default system prompt
when none is given and ``CHATML_TEMPLATE`` does not, so an export always writes a SYSTEM line
(SmolLM2's default when the candidate has none).

Caveat: the embedded base was dequantized from a Q4_1 GGUF, while Ollama's ``smollm2:135m`` is
its own quantization of the original weights; the adapter transfers, but scores under Ollama
can differ slightly from the transformers run. ``merged: true`` (FROM the merged folder) serves
exactly the weights that were scored.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError
from harness.models.modelfile import (
    CHATML_STOP,
    CHATML_TEMPLATE,
    Modelfile,
    dump_modelfile,
    modelfile_for_adapter,
    parse_modelfile,
)

if TYPE_CHECKING:
    from harness.candidate import Candidate
    from harness.suite import Suite
    from harness.variants.config import TrainingConfig
    from harness.variants.lora import TrainedAdapter

SMOLLM2_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")


@dataclass
class OllamaExport:
    directory: Path
    modelfile_path: Path
    modelfile: Modelfile

    def for_create(self) -> Modelfile:
        """The Modelfile with absolute ADAPTER/FROM paths, for ``create_from_modelfile`` (API, not CLI)."""
        return absolute_paths(self.modelfile, self.directory)


def merge_adapter(adapter_dir: str | Path, output_dir: str | Path, base_model: str | None = None) -> Path:
    """Fold the adapter into a float32 copy of its base (``merge_and_unload``), saved as safetensors.

    Loads an unquantized base even for QLoRA adapters: merging into 4-bit weights would round
    the update away.
    """
    import torch
    from peft import PeftConfig, PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.models.embedded import resolve_model_path

    adapter_dir, output_dir = Path(adapter_dir), Path(output_dir)
    _check_adapter(adapter_dir)
    base = resolve_model_path(base_model) if base_model else PeftConfig.from_pretrained(
        str(adapter_dir)).base_model_name_or_path
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    staging = output_dir.with_name(output_dir.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    merged.save_pretrained(str(staging), safe_serialization=True)
    AutoTokenizer.from_pretrained(base).save_pretrained(str(staging))
    if output_dir.exists():
        shutil.rmtree(output_dir)
    staging.rename(output_dir)
    return output_dir


def _check_adapter(adapter_dir: Path) -> None:
    missing = [name for name in ADAPTER_FILES if not (adapter_dir / name).exists()]
    if missing:
        raise ConfigError(f"{adapter_dir}: not a LoRA adapter folder (missing {', '.join(missing)})")


def export_ollama(
    adapter_dir: str | Path,
    output_dir: str | Path,
    *,
    base_from: str = "smollm2:135m",
    system: str | None = None,
    params: dict[str, Any] | None = None,
    messages: list[dict[str, str]] | None = None,
    merged: bool = False,
    base_model: str | None = None,
    template: str = CHATML_TEMPLATE,
    stop: tuple[str, ...] = CHATML_STOP,
) -> OllamaExport:
    """Write ``output_dir/{adapter|model}/`` + ``Modelfile``; returns the parsed Modelfile.

    ``params`` are Ollama parameter names (``num_predict``, ``repeat_penalty``);
    ``messages`` become MESSAGE few-shot turns. The written file is checked to parse back
    to the same Modelfile before it is returned.
    """
    adapter_dir, output_dir = Path(adapter_dir), Path(output_dir)
    _check_adapter(adapter_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    system = _system_or_default(system, base_model, base_from)
    if merged:
        merge_adapter(adapter_dir, output_dir / "model", base_model)
        modelfile = modelfile_for_adapter("./model", "./unused", template=template, stop=stop,
                                          system=system, params=params)
        modelfile.adapters = []
    else:
        target = output_dir / "adapter"
        target.mkdir(exist_ok=True)
        for name in ADAPTER_FILES:
            shutil.copy2(adapter_dir / name, target / name)
        modelfile = modelfile_for_adapter(base_from, "./adapter", template=template, stop=stop,
                                          system=system, params=params)
    modelfile.messages = [(m["role"], m["content"]) for m in (messages or []) if m["role"] != "system"]
    text = dump_modelfile(modelfile, header="Generated by harness.variants.export; serve with "
                                            "`ollama create <name> -f Modelfile` from this folder")
    path = output_dir / "Modelfile"
    path.write_text(text, encoding="utf-8")
    reread = parse_modelfile(path.read_text(encoding="utf-8"), source=str(path))
    if reread != modelfile:  # pragma: no cover - dump_modelfile guarantees this; keep the check cheap and loud
        raise ConfigError(f"{path}: written Modelfile does not parse back identically")
    return OllamaExport(output_dir, path, reread)


def absolute_paths(modelfile: Modelfile, directory: Path) -> Modelfile:
    """A copy whose relative FROM/ADAPTER paths point into ``directory``."""
    import dataclasses

    def fix(value: str) -> str:
        return str((directory / value).resolve()) if value.startswith(("./", "../")) else value

    return dataclasses.replace(modelfile, from_=fix(modelfile.from_), adapters=[fix(a) for a in modelfile.adapters])


def ollama_params(params: Any) -> dict[str, Any]:
    """harness GenerationParams -> Ollama Modelfile parameters (same mapping as the Ollama backend)."""
    from harness.models.ollama_backend import params_to_options

    return params_to_options(params)


def export_candidate(candidate: Candidate, suite: Suite, output_dir: str | Path, *, base_from: str = "smollm2:135m",
                     merged: bool = False) -> OllamaExport:
    """Export a trained candidate with the SYSTEM, few-shot turns and params it is scored with on ``suite``."""
    if not candidate.adapter_path:
        raise ConfigError(f"candidate {candidate.name!r} has no adapter to export")
    setup = candidate.prompt_setup(suite)
    return export_ollama(candidate.adapter_path, output_dir, base_from=base_from,
                         system=setup.system,
                         params=ollama_params(setup.params), messages=setup.few_shot, merged=merged,
                         base_model=candidate.spec.model)


def export_for_spec(candidate: Candidate, trained: TrainedAdapter, config: TrainingConfig,
                    suites_dir: Path | None = None) -> OllamaExport:
    """The export a candidate's training config asks for (``export.ollama``); the candidate factory calls it.

    The prompt is the candidate's on the suite it was trained from (first suite_train dataset),
    else the candidate's own: its ``system``, else its Modelfile's SYSTEM / MESSAGEs / PARAMETERs,
    else the config's system prompt.
    """
    from harness.models.base import GenerationParams
    from harness.suite import load_suite, parse_suite_ref

    spec = candidate.spec
    out = Path(trained.output_dir) / "ollama"
    suite_ref = next((d.suite for d in config.datasets.values() if d.kind == "suite_train"), None)
    if suite_ref is not None:
        name, version = parse_suite_ref(suite_ref)
        return export_candidate(candidate, load_suite(name, version, suites_dir), out,
                                base_from=config.export.base_from, merged=config.export.merged)
    modelfile = candidate.modelfile_for_any()
    params = GenerationParams()
    few_shot: list[dict[str, str]] = []
    system = config.system
    if modelfile is not None:
        params = params.merged(modelfile.to_generation_params())
        prefix = modelfile.chat_prefix()
        system = next((m["content"] for m in prefix if m["role"] == "system"), system)
        few_shot = [m for m in prefix if m["role"] != "system"]
    params = params.merged(spec.params)
    system = spec.system if spec.system is not None else system
    return export_ollama(trained.adapter_path, out, base_from=config.export.base_from,
                         system=system, params=ollama_params(params),
                         messages=few_shot, merged=config.export.merged, base_model=candidate.spec.model)


def export_for_training(config: TrainingConfig, trained: TrainedAdapter, base_model: str,
                        suites_dir: Path | None = None) -> OllamaExport:
    """``harness train`` with ``export: {ollama: true}``: the prompt the adapter was trained with
    (the config's system, else the first suite_train dataset's suite prompt)."""
    from harness.models.base import GenerationParams
    from harness.suite import load_suite, parse_suite_ref

    system, params = config.system, GenerationParams()
    suite_ref = next((d.suite for d in config.datasets.values() if d.kind == "suite_train"), None)
    if suite_ref is not None:
        suite = load_suite(*parse_suite_ref(suite_ref), suites_dir)
        system = system or suite.spec.prompt.system
        params = params.merged(suite.spec.generation.model_dump())
    return export_ollama(trained.adapter_path, Path(trained.output_dir) / "ollama", base_from=config.export.base_from,
                         system=system, params=ollama_params(params),
                         merged=config.export.merged, base_model=base_model)


def _system_or_default(system: str | None, base_model: str | None, base_from: str) -> str | None:
    """SmolLM2's template adds its default system prompt when none is given, so an export of the
    embedded model writes it to score the same; other bases get no SYSTEM line then."""
    from harness.models.embedded import LLM_ALIASES

    if system and system.strip():
        return system.strip()
    embedded = (base_model is None or base_model in LLM_ALIASES) and base_from in LLM_ALIASES
    return SMOLLM2_DEFAULT_SYSTEM if embedded else None
