"""A team's own metric and backend, from a package outside harness/, in a real run, its report and the
playground: installed (entry points) or named in the config (``plugins:``).

Each run is a subprocess so the plugin registers in a fresh interpreter (as it would for a user),
not in this test process's registries.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "examples" / "plugin-bleu-like"

SUITE = """\
name: plug
version: v1
task: therapy
description: Three author-written cases for the plugin test.
prompt:
  system: You are a kind, brief counselling companion.
  template: "{{ input }}"
generation:
  max_new_tokens: 40
metrics:
  - name: bleu_like
  - name: word_limit
    params: {default_limit: 60}
gates:
  - id: bleu-floor
    type: threshold
    metric: bleu_like
    min: 0.0
eval_splits: ["test"]
"""
CASES = [
    {"id": "p-1", "split": "test", "input": "I have been dreading the family dinner all week.",
     "reference": "It sounds like the dinner has been weighing on you all week. What feels hardest about it?"},
    {"id": "p-2", "split": "test", "input": "My flatmate never cleans up and I am fed up.",
     "reference": "Living with that mess sounds really frustrating. Have you been able to talk about it?"},
    {"id": "p-3", "split": "test", "input": "I passed my driving test today!",
     "reference": "Congratulations, that is a real achievement. How are you celebrating?"},
]


def _project(tmp_path: Path, plugins: list[str] | None) -> Path:
    suite = tmp_path / "suites" / "plug" / "v1"
    suite.mkdir(parents=True)
    (suite / "suite.yaml").write_text(SUITE)
    (suite / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in CASES))
    lines = ["name: plugin-demo", "suites_dir: suites", "report_dir: reports", "suites: [plug/v1]"]
    if plugins:
        lines.append(f"plugins: {json.dumps(plugins)}")
    lines += ["candidates:", "  - name: canned", "    backend: template",
              '    model: "It sounds like {last} What feels hardest about it right now?"',
              "  - name: plain", "    backend: template", '    model: "Thank you for telling me. {last}"']
    config = tmp_path / "experiment.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config


def _run(args: list[str], tmp_path: Path, extra_path: list[Path]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in [ROOT, *extra_path]),
           "HARNESS_HOME": str(tmp_path / "home"), "COLUMNS": "200", "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)


def _harness_run(config: Path, tmp_path: Path, extra_path: list[Path]) -> str:
    done = _run(["-c", "from harness.cli import main; main()", "run", str(config), "--store",
                 str(tmp_path / "store.sqlite"), "--no-progress"], tmp_path, extra_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _check_views(output: str, tmp_path: Path) -> None:
    assert "bleu like" in output  # the console table's headline column, from the plugin's metadata
    report = next(line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("report: "))
    html = (tmp_path / report).read_text(encoding="utf-8")
    assert "bleu_like" in html  # the plugin metric's scores
    assert "It sounds like I have been dreading the family dinner all week." in html  # the plugin backend's output


def test_installed_plugin_metric_and_backend_appear_in_run_and_report(tmp_path: Path) -> None:
    site = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                          "--target", str(site), str(PLUGIN)], capture_output=True, text=True, timeout=300)
    if pip.returncode != 0:
        pytest.skip(f"cannot build the example plugin here: {pip.stderr[-400:]}")
    shutil.rmtree(tmp_path / "build", ignore_errors=True)
    output = _harness_run(_project(tmp_path, None), tmp_path, [site])
    _check_views(output, tmp_path)


def test_config_plugins_load_a_team_module_for_run_report_and_playground(tmp_path: Path) -> None:
    shutil.copytree(PLUGIN / "harness_plugin_bleu_like", tmp_path / "harness_plugin_bleu_like")
    config = _project(tmp_path, ["harness_plugin_bleu_like.metric", "harness_plugin_bleu_like.backend"])
    _check_views(_harness_run(config, tmp_path, []), tmp_path)
    script = (
        "import sys; from harness.playground.engine import Playground\n"
        "pg = Playground(sys.argv[1], sys.argv[2])\n"
        "c = pg.start(reviewer='', suite='plug', version='v1', candidates=['canned', 'plain'], blind=False,"
        " case_id='p-1')\n"
        "r = pg.generate(c, 0)\nprint(r['text']); print(r['badges_html'])\n"
    )
    done = _run(["-c", script, str(tmp_path / "pg.sqlite"), str(config)], tmp_path, [])
    assert done.returncode == 0, done.stderr
    assert "It sounds like I have been dreading" in done.stdout  # the plugin backend generated it
    assert "bleu like" in done.stdout  # the plugin metric's badge


def test_unknown_plugin_module_is_a_config_error(tmp_path: Path) -> None:
    config = _project(tmp_path, ["no_such_team_module"])
    done = _run(["-c", "from harness.cli import main; main()", "run", str(config), "--store",
                 str(tmp_path / "s.sqlite")], tmp_path, [])
    assert done.returncode == 2 and "no_such_team_module" in done.stderr + done.stdout


def test_a_plugin_backend_name_is_unknown_without_its_plugin(tmp_path: Path) -> None:
    done = _run(["-c", "from harness.cli import main; main()", "run", str(_project(tmp_path, None)), "--store",
                 str(tmp_path / "s.sqlite")], tmp_path, [])
    assert done.returncode == 2 and "unknown backend 'template'" in done.stderr + done.stdout
