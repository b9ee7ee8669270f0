"""The harness as an installed library: a wheel that carries its suites, configs and py.typed, one
version, ``harness --version``, and the gate runner as a pytest plugin over a team's own suites folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import harness

ROOT = Path(__file__).resolve().parents[1]


def _sh(args: list[str], cwd: Path, pythonpath: list[Path], timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, pythonpath)), "HF_HUB_OFFLINE": "1",
           "HARNESS_HOME": str(cwd / "home")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the source (the build leaves nothing in the checkout)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("harness", "suites", "configs"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    done = _sh([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                str(src)], src, [])
    if done.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {done.stderr[-400:]}")
    return next(out.glob("*.whl"))


def test_wheel_carries_every_module_suites_configs_and_entry_points(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {p.relative_to(ROOT).as_posix() for pkg in ("harness",) for p in (ROOT / pkg).rglob("*.py")
               if "__pycache__" not in p.parts}
    missing = sorted(sources - names)
    assert not missing, f"not in the wheel (add the package to pyproject's [tool.setuptools] packages): {missing}"
    released = json.loads((ROOT / "suites" / "released.json").read_text())
    for key in released:
        assert f"harness/_shipped/suites/{key}/suite.yaml" in names
    assert "harness/_shipped/configs/experiments/gates.yaml" in names and "harness/py.typed" in names
    meta = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = zipfile.ZipFile(wheel).read(meta).decode()
    assert "harness.pytest_plugin = harness.pytest_plugin" in entry_points
    assert "harness = harness.cli:main" in entry_points
    assert f"harness_clinical-{harness.__version__}.dist-info/METADATA" in names  # one version source


def test_installed_wheel_finds_its_suites_outside_a_clone(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = _sh([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
               tmp_path, [])
    assert done.returncode == 0, done.stderr
    script = ("import harness, harness.suite as s, harness.releases as r; print(harness.__file__); "
              "print(harness.__version__); suite = s.load_suite('therapy', 'v1'); print(suite.directory); "
              "print(len(suite.cases))")
    run = _sh([sys.executable, "-c", script], tmp_path, [site])
    assert run.returncode == 0, run.stderr
    module, version, directory, cases = run.stdout.split()
    assert module.startswith(str(site)) and version == harness.__version__
    assert directory.startswith(str(site / "harness" / "_shipped" / "suites")) and int(cases) > 0
    cli = _sh([sys.executable, "-c", "from harness.cli import main; main()", "--version"], tmp_path, [site])
    assert cli.stdout.strip() == f"harness {harness.__version__}"


SUITE = """\
name: {name}
version: v1
task: therapy
description: A team's own suite (author-written) for the gate plugin test.
prompt: {{system: Be brief., template: "{{{{ input }}}}"}}
metrics:
  - name: word_limit
    params: {{default_limit: {limit}}}
gates:
  - id: all-within-limit
    type: must_pass
    metric: within_limit
eval_splits: ["test"]
"""


def test_gate_plugin_gates_a_teams_own_suites_folder(tmp_path: Path) -> None:
    for name, limit in (("roomy", 60), ("tight", 3)):
        folder = tmp_path / "team-suites" / name / "v1"
        folder.mkdir(parents=True)
        (folder / "suite.yaml").write_text(SUITE.format(name=name, limit=limit))
        (folder / "cases.jsonl").write_text(json.dumps({"id": "t-1", "split": "test",
                                                        "input": "I could not sleep again last night."}) + "\n")
    shutil.copytree(ROOT / "examples" / "plugin-bleu-like" / "harness_plugin_bleu_like",
                    tmp_path / "harness_plugin_bleu_like")
    (tmp_path / "candidates.yaml").write_text(
        "name: team\nsuites: [roomy]\nplugins: [harness_plugin_bleu_like.backend]\ncandidates:\n"
        "  - name: canned\n    backend: template\n    model: 'It sounds like {last} What feels hardest?'\n")
    done = _sh([sys.executable, "-m", "pytest", "-p", "harness.pytest_plugin", "--pyargs", "harness.gate_tests",
                "--suites-dir", "team-suites", "--candidates-config", "candidates.yaml", "--candidate", "canned",
                "--baseline", "canned", "--store", "gates.sqlite", "-q", "-p", "no:cacheprovider"],
               tmp_path, [ROOT], timeout=600)
    assert "1 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    assert "tight/v1::all-within-limit" in done.stdout  # the failing gate is named
