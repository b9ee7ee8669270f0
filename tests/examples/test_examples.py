"""The five workflows in configs/examples/, each run end to end on tiny data.

Every example's configs load and its data files parse (fast). The end-to-end runs copy an example,
swap its base model for a tiny GPT-2 built offline (so they take seconds, and they also exercise the
template-less path), train with the example's own data and score with `run_experiment` on 1 case.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from harness.config import load_experiment
from harness.store import Store

EXAMPLES = Path(__file__).resolve().parents[2] / "configs" / "examples"
WORKFLOWS = ["session-summarizer", "ketamine-companion", "gpt2-crisis-chatbot", "sft-dpo-curriculum",
             "discharge-assistant"]


def test_every_workflow_has_an_example() -> None:
    assert sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()) == sorted(WORKFLOWS)


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_example_configs_load_and_data_parses(workflow: str) -> None:
    from harness.candidate import Candidate
    from harness.variants import load_training_config
    from harness.variants.data import build_datasets
    from harness.variants.embedding import load_embedding_config

    folder = EXAMPLES / workflow
    for path in sorted(folder.glob("*.yaml")):
        kind = yaml.safe_load(path.read_text()).get("kind")
        if "candidates" in path.read_text():
            experiment = load_experiment(path)
            for spec in experiment.candidates:
                if not spec.train and not (spec.retriever and spec.retriever.train):
                    Candidate(spec, folder)  # Modelfile FROM and paths resolve
        elif kind == "embedding":
            load_embedding_config(path).load_suite()
        else:
            config = load_training_config(path)
            built = build_datasets(config, folder)
            assert all(b.records for b in built.values())


def _copy_on_tiny_base(workflow: str, tmp_path: Path, tiny: Path) -> Path:
    """The example with every base (model:, base_model:, Modelfile FROM) pointing at the tiny GPT-2."""
    folder = tmp_path / workflow
    shutil.copytree(EXAMPLES / workflow, folder)
    for path in folder.glob("*.Modelfile"):
        path.write_text(path.read_text().replace("FROM smollm2:135m", f"FROM {tiny}"))
    for path in folder.glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        if "candidates" in data:
            for candidate in data["candidates"]:
                candidate["model"] = str(tiny)
                candidate.setdefault("params", {})["max_new_tokens"] = 8
                candidate.pop("chat_template", None)  # the tiny model uses the default 'plain'
        elif data.get("kind") != "embedding":
            data["base_model"] = str(tiny)
            data.pop("chat_template", None)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def _run(folder: Path, tmp_path: Path) -> dict:
    from harness.runner import run_experiment

    with Store(tmp_path / "store.sqlite") as store:
        summary = run_experiment(folder / "experiment.yaml", store=store, report_root=tmp_path / "reports",
                                 limit=1, progress=False, log=lambda _m: None)
    return summary.leaderboard


@pytest.mark.parametrize("workflow", ["session-summarizer", "ketamine-companion", "gpt2-crisis-chatbot"])
def test_workflow_runs_end_to_end_on_a_tiny_base(workflow: str, tmp_path: Path, tiny_gpt2: Path) -> None:
    board = _run(_copy_on_tiny_base(workflow, tmp_path, tiny_gpt2), tmp_path)
    rows = next(iter(board.values()))
    assert {r["label"] for r in rows} >= {"base"} and len(rows) == 2


def test_curriculum_trains_three_stages_and_exports_merged(tmp_path: Path, tiny_gpt2: Path) -> None:
    from harness.models.modelfile import load_modelfile
    from harness.variants import train_from_config

    folder = _copy_on_tiny_base("sft-dpo-curriculum", tmp_path, tiny_gpt2)
    trained = train_from_config(folder / "curriculum.yaml", output_root=tmp_path / "adapters", log=lambda _m: None)
    units = trained.lineage["metrics"]["units"]
    assert [(u["stage"], u["steps"]) for u in units] == [("counselchat", 2), ("mi", 1), ("dpo", 1)]
    exported = load_modelfile(Path(trained.export_dir) / "Modelfile")
    assert exported.from_ == "./model" and exported.system == "You are a warm, careful counselling companion."
    assert (Path(trained.export_dir) / "model" / "config.json").exists()


def test_discharge_assistant_asks_its_summaries_including_the_pdf(tmp_path: Path, tiny_gpt2: Path) -> None:
    from harness.candidate import Candidate, CandidateSpec
    from harness.rag.ask import ask
    from harness.rag.knowledge import knowledge_retriever
    from harness.rag.retriever import resolve_embedding_model

    folder = _copy_on_tiny_base("discharge-assistant", tmp_path, tiny_gpt2)
    spec = CandidateSpec(name="kb", retriever={"documents": "summaries"}).retriever
    retriever = knowledge_retriever(spec, resolve_embedding_model(None), None, folder)
    candidate = Candidate(CandidateSpec(name="rag", modelfile="assistant.Modelfile", model=str(tiny_gpt2),
                                        params={"max_new_tokens": 8}), folder)
    answer = ask("How much water should I drink after the kidney stone?", retriever, candidate, k=1)
    assert answer.passages[0]["document_id"] == "patient-b"  # read from the PDF
    assert "2.5 litres" in answer.messages[0]["content"]


@pytest.mark.slow
def test_discharge_assistant_runs_with_a_fine_tuned_encoder(tmp_path: Path, tiny_gpt2: Path) -> None:
    board = _run(_copy_on_tiny_base("discharge-assistant", tmp_path, tiny_gpt2), tmp_path)
    assert {r["label"] for r in board["discharge/v1"]} == {"rag", "rag-tuned-encoder"}
