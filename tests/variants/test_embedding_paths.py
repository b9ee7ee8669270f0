"""Embedding fine-tune configs: suites_dir and every path relative to the YAML's folder."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from harness.errors import ConfigError
from harness.variants.embedding import load_embedding_config, training_fingerprint

YAML = "kind: embedding\nname: team\nsuite: discharge_synth/v1\nsuites_dir: {suites}\nbase_model: {base}\n"


def test_team_suite_in_suites_dir_is_found_relative_to_the_config(tmp_path: Path, synthetic: ModuleType,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    documents, cases = synthetic.make_suite_rows(4, seed=0)
    synthetic.write_rows(tmp_path / "team" / "suites", documents, cases)
    config_path = tmp_path / "team" / "configs" / "embed.yaml"
    config_path.parent.mkdir(parents=True)
    config_path.write_text(YAML.format(suites="../suites", base="./encoder"))
    monkeypatch.chdir(tmp_path)  # neither the repository's suites/ nor the working directory holds it
    config = load_embedding_config(config_path)
    assert config.load_suite().name == "discharge_synth"
    assert config.resolve(config.base_model) == config_path.parent / "encoder"
    without = load_embedding_config(config_path)
    object.__setattr__(without, "suites_dir", None)
    with pytest.raises(ConfigError, match="discharge_synth"):
        without.load_suite()


def test_suites_dir_does_not_change_the_fingerprint(tmp_path: Path, synthetic: ModuleType) -> None:
    from harness.variants.embedding import build_training_data

    documents, cases = synthetic.make_suite_rows(4, seed=0)
    synthetic.write_rows(tmp_path / "suites", documents, cases)
    (tmp_path / "a.yaml").write_text(YAML.format(suites="suites", base="null"))
    (tmp_path / "b.yaml").write_text(YAML.format(suites=tmp_path / "suites", base="null"))
    a, b = load_embedding_config(tmp_path / "a.yaml"), load_embedding_config(tmp_path / "b.yaml")
    data = build_training_data(a.load_suite(), a)
    assert training_fingerprint(a, "base", data) == training_fingerprint(b, "base", data)
