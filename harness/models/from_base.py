"""Which base model a candidate runs: its own ``model:``/``backend:`` or its Modelfile's ``FROM``.

A Modelfile's FROM used to be ignored (FROM llama3.2:3b ran the embedded 135M model). Now:

- a candidate that sets neither ``model`` nor ``backend`` runs the FROM base: an Ollama tag
  (``llama3.2:3b``, ``llama3.2``) on the Ollama backend, a local folder (relative to the Modelfile)
  or a hub id (``org/name``) on transformers, a GGUF file on llamacpp; the embedded model's tag
  (``smollm2:135m``) stays the embedded model;
- ``backend: llamacpp`` runs an Ollama FROM tag from the local Ollama store's blob (the bytes Ollama serves);
- a candidate whose own model/backend disagrees with FROM is an error (which one ran would be a guess);
- ``model: ./x`` resolves against the config's folder like every other path in a config.

The result is recorded in the candidate's lineage (``generator_base``), so reports say what ran.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError
from harness.models.embedded import EMBEDDED_LLM, LLM_ALIASES, model_identity

if TYPE_CHECKING:
    from harness.candidate import CandidateSpec
    from harness.models.modelfile import Modelfile

_PATH_PREFIXES = ("./", "../", "/", "~", ".\\", "..\\")


def resolve_model_path_field(value: str, base_dir: Path, candidate: str) -> str:
    """``model:`` as a path relative to the config's folder when it looks like one (or exists there)."""
    if value in LLM_ALIASES:
        return value
    path = Path(value).expanduser()
    if path.is_absolute():
        return str(path)
    if value.startswith(_PATH_PREFIXES):
        full = (base_dir / path).resolve()
        if not full.exists():
            raise ConfigError(f"candidate {candidate!r}: field 'model': folder {value!r} not found "
                              f"(relative paths resolve against the config's folder {base_dir})")
        return str(full)
    if (base_dir / path).is_dir():
        return str((base_dir / path).resolve())
    return value  # a hub id or an Ollama tag


def classify_from(value: str, modelfile_dir: Path | None) -> tuple[str | None, str]:
    """(backend, model) a FROM line names; backend None for the embedded model (either backend serves it)."""
    if value in LLM_ALIASES:
        return None, value
    path = Path(value).expanduser()
    local = path if path.is_absolute() else (modelfile_dir / path if modelfile_dir else path)
    if value.startswith(_PATH_PREFIXES) or local.exists():
        if not local.exists():
            raise ConfigError(f"Modelfile FROM {value!r}: {local} not found (a relative FROM resolves against "
                              "the Modelfile's folder)")
        if local.is_file():  # a GGUF: llama.cpp loads it as is (or `harness models create` for Ollama)
            return "llamacpp", str(local.resolve())
        return "transformers", str(local.resolve())
    if "/" in value and ":" not in value:
        return "transformers", value  # a hub id such as Qwen/Qwen2.5-0.5B-Instruct
    return "ollama", value


def _runs_from(backend: str, from_backend: str | None) -> bool:
    """Whether ``backend`` can run what FROM names (llamacpp also runs an Ollama tag from the local store)."""
    return from_backend in (None, backend) or (backend == "llamacpp" and from_backend == "ollama")


def _same_model(backend: str, a: str, b: str) -> bool:
    if backend == "transformers" or (backend == "llamacpp" and Path(a).expanduser().exists()):
        return model_identity(a) == model_identity(b)
    if backend == "llamacpp":
        a, b = a.removeprefix("ollama:"), b.removeprefix("ollama:")
    return a == b or (a in LLM_ALIASES and b in LLM_ALIASES)


def apply_modelfile_base(spec: CandidateSpec, modelfiles: dict[str, Modelfile],
                         base_dir: Path) -> tuple[CandidateSpec, dict[str, Any]]:
    """The spec that runs (FROM honoured, ``model:`` path resolved) and a lineage note saying why."""
    explicit = spec.model_fields_set & {"model", "backend"}
    model = resolve_model_path_field(spec.model, base_dir, spec.name) if "model" in explicit else spec.model
    spec = spec.model_copy(update={"model": model})
    froms = {(mf.from_, Path(mf.source).parent if mf.source and mf.source != "<string>" else None)
             for mf in modelfiles.values()}
    if len({f for f, _ in froms}) > 1:
        raise ConfigError(f"candidate {spec.name!r}: its Modelfiles name different bases "
                          f"({', '.join(sorted(f for f, _ in froms))}); one candidate runs one model",
                          hint="split it into one candidate per base")
    note: dict[str, Any] = {"backend": spec.backend, "model": spec.model, "source": "candidate"}
    if not froms:
        return spec, note
    value, folder = next(iter(froms))
    from_backend, from_model = classify_from(value, folder)
    note["modelfile_from"] = value
    if not explicit:
        if from_backend is None or (from_backend == "transformers" and _same_model("transformers", from_model,
                                                                                   EMBEDDED_LLM)):
            return spec, {**note, "source": "modelfile FROM (the embedded model)"}
        if spec.adapter or spec.train:
            if from_backend == "ollama":
                raise ConfigError(f"candidate {spec.name!r}: Modelfile FROM {value!r} is an Ollama model, but an "
                                  "adapter/train: runs on transformers",
                                  hint="set the candidate's model: to the transformers base the adapter fits")
        spec = spec.model_copy(update={"backend": from_backend, "model": from_model})
        return spec, {**note, "backend": from_backend, "model": from_model, "source": "modelfile FROM"}
    if explicit == {"backend"}:  # backend given, model from FROM
        if not _runs_from(spec.backend, from_backend) or spec.backend == "openai":
            _mismatch(spec, value, f"FROM names a {from_backend or 'embedded'} model")
        if from_backend is not None or spec.backend == "ollama":
            spec = spec.model_copy(update={"model": from_model})
        return spec, {**note, "model": spec.model, "source": "modelfile FROM (backend from the candidate)"}
    _check_agreement(spec, value, from_backend, from_model)
    return spec, {**note, "source": "candidate (agrees with modelfile FROM)"}


def _check_agreement(spec: CandidateSpec, value: str, from_backend: str | None, from_model: str) -> None:
    """The candidate names its model: FROM must name the same one."""
    if from_backend is None:  # the embedded model's name or Ollama tag
        if spec.model not in LLM_ALIASES:
            _mismatch(spec, value)
        return
    if spec.backend != "openai" and not _runs_from(spec.backend, from_backend):
        _mismatch(spec, value, f"FROM names a {from_backend} model")
    if not _same_model(spec.backend, spec.model, from_model):
        _mismatch(spec, value)


def _mismatch(spec: CandidateSpec, value: str, why: str = "") -> None:
    raise ConfigError(
        f"candidate {spec.name!r}: its Modelfile says FROM {value!r} but the candidate runs "
        f"{spec.backend}:{spec.model}{f' ({why})' if why else ''}",
        hint="drop the candidate's model:/backend: to run the Modelfile's base, or make FROM name the same model",
    )
