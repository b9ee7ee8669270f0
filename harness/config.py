"""Typed experiment configs. Field names map one to one onto YAML keys; unknown keys are
errors that name the file, the line and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.candidate_spec import CandidateSpec
from harness.hashing import payload_digest
from harness.plugins import load_modules, plugin_folder
from harness.suite import Split
from harness.yamlio import load_yaml_config, validate_yaml_model


class SuiteSelection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suite: str = Field(description="'name' or 'name/version'")
    splits: list[Split] | None = None
    limit: int | None = Field(default=None, gt=0)
    case_ids: list[str] | None = None


class ExperimentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    seed: int = 0
    suites: list[SuiteSelection] = Field(min_length=1)
    candidates: list[CandidateSpec] = Field(min_length=1)
    baseline: str | None = None
    limit: int | None = Field(default=None, gt=0, description="default per-suite case limit")
    report_dir: str = "reports"
    suites_dir: str | None = Field(default=None, description="folder of suites (default: the repository's suites/)")
    bootstrap_resamples: int = Field(default=2000, ge=100)
    plugins: list[str] = Field(default_factory=list, description=(
        "modules that register extra metrics or backends (harness.plugins), imported before the candidates are"
        " checked; a module beside the config file is found too"))

    @model_validator(mode="before")
    @classmethod
    def _load_plugins(cls, data: Any) -> Any:
        # Before field validation: a plugin backend must be registered when the candidates are checked.
        if isinstance(data, dict) and isinstance(data.get("plugins"), list):
            load_modules([str(m) for m in data["plugins"]])
        return data

    @field_validator("suites", mode="before")
    @classmethod
    def _suite_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"suite": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _names(self) -> ExperimentConfig:
        names = [c.name for c in self.candidates]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"candidate names must be unique; repeated: {dupes}")
        if self.baseline is not None and self.baseline not in names:
            raise ValueError(f"baseline {self.baseline!r} is not a candidate name (candidates: {names})")
        return self

    @property
    def baseline_name(self) -> str:
        return self.baseline or self.candidates[0].name

    def config_hash(self) -> str:
        # An empty plugins list is left out, so configs written before plugins existed keep their hash.
        return payload_digest(self.model_dump(mode="json", exclude=set() if self.plugins else {"plugins"}))[:16]


def load_experiment(path: Path | str) -> ExperimentConfig:
    located = load_yaml_config(path, "an experiment YAML file (configs/experiments/<name>.yaml)")
    with plugin_folder(Path(path).resolve().parent):
        return validate_yaml_model(ExperimentConfig, located)
