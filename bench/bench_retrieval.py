"""Fine-tuned vs. base MiniLM retrieval on the discharge test split (nDCG@10, Recall@5, paired CIs).

Two scopes are compared: searching only the patient's own document (what a RAG candidate
with ``restrict_to_document: true`` does) and searching every document of the suite.

Usage:
    python bench/bench_retrieval.py [--config configs/training/embedding-discharge.yaml]
                                    [--suite discharge/v1] [--synthetic] [--out reports/bench_retrieval.json]

Without the discharge suite (or with ``--synthetic``), a synthetic discharge suite from
``tests/rag/synthetic_discharge.py`` is written to a temporary folder and used instead; the
output says which suite was measured. Training is skipped when the model for the same
inputs already exists under ``$HARNESS_HOME/embeddings``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _synthetic_suite(folder: Path):
    from harness.suite import load_suite

    spec = importlib.util.spec_from_file_location("synthetic_discharge", ROOT / "tests/rag/synthetic_discharge.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_suite(folder, n_documents=40, seed=1)
    return load_suite("discharge_synth", "v1", suites_dir=folder)


def leakage_check(suite, config) -> dict:
    """The leakage check's figures, for the record: training already refuses on a leaking question,
    so this repeats the same check on the same training data to show the count (0) and which
    training documents, if any, also serve test questions."""
    from harness.leakage import find_near_duplicate_questions
    from harness.variants.embedding import build_training_data

    data = build_training_data(suite, config)
    test_cases = [c for c in suite.cases if c.split == "test"]
    near = find_near_duplicate_questions(
        (p.question for p in data.pairs), [c.question or "" for c in test_cases], config.near_duplicate_threshold
    )
    shared_documents = {p.document_id for p in data.pairs} & {c.document_id for c in test_cases}
    return {
        "training_questions": len({p.question for p in data.pairs}),
        "test_questions": len(test_cases),
        "near_duplicate_threshold": config.near_duplicate_threshold,
        "near_duplicate_pairs": len(near),
        "passed": not near,
        # stricter than the question rule: on suites whose documents serve several splits this is not empty
        "training_documents_on_test_split": sorted(shared_documents),
    }


def per_document(suite, comparison: dict) -> dict:
    """nDCG@10 per summary: one pooled delta can hide a summary that got worse."""
    document_of = {case.id: case.document_id for case in suite.cases}
    rows: dict[str, dict[str, list[float]]] = {}
    per_case = comparison["per_case"]
    for index, case_id in enumerate(per_case["case_ids"]):
        row = rows.setdefault(document_of[case_id] or "?", {"base": [], "tuned": []})
        for label in ("base", "tuned"):
            row[label].append(per_case[label]["ndcg_at_10"][index])
    return {
        doc: {"n": len(r["base"]), "base": round(sum(r["base"]) / len(r["base"]), 3),
              "tuned": round(sum(r["tuned"]) / len(r["tuned"]), 3)}
        for doc, r in sorted(rows.items())
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs/training/embedding-discharge.yaml"))
    parser.add_argument("--suite", default=None, help="suite ref (default: the config's suite)")
    parser.add_argument("--synthetic", action="store_true", help="measure on the synthetic suite")
    parser.add_argument("--split", default="test", help="split to compare on (use dev when choosing settings)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None, help="also write the JSON result here")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from harness.errors import ConfigError
    from harness.suite import load_suite, parse_suite_ref
    from harness.variants.embedding import (
        compare_retrievers,
        evaluator_ndcg_at_10,
        load_embedding_config,
        train_embedding,
    )

    config = load_embedding_config(args.config)
    temp = tempfile.TemporaryDirectory(prefix="bench-retrieval-")
    source = "suite"
    if args.synthetic:
        suite, source = _synthetic_suite(Path(temp.name)), "synthetic (tests/rag/synthetic_discharge.py)"
    else:
        try:
            suite = load_suite(*parse_suite_ref(args.suite or config.suite))
        except ConfigError as exc:
            print(f"note: {exc}; measuring on the synthetic suite instead", file=sys.stderr)
            suite, source = _synthetic_suite(Path(temp.name)), "synthetic (tests/rag/synthetic_discharge.py)"
    if args.split in config.train_splits:
        print(f"error: split {args.split!r} is in the config's train_splits {config.train_splits}; "
              "compare on a split the model did not train on", file=sys.stderr)
        return 2
    started = time.time()
    trained = train_embedding(config, suite)
    train_seconds = time.time() - started
    comparisons = {
        scope: compare_retrievers(
            suite, config.base_model, trained.model_path, k=10, split=args.split, chunking=config.chunking,
            restrict_to_document=(scope == "patient_document"),
        )
        for scope in ("patient_document", "all_documents")
    }
    result = {
        "measured_on": source,
        "leakage_check": leakage_check(suite, config),
        "suite": suite.key,
        "suite_hash": suite.hash,
        "model_path": str(trained.model_path),
        "training_fingerprint": trained.fingerprint,
        "reused_model": trained.reused,
        "train_wall_seconds": round(train_seconds, 1),
        "training_data": trained.metadata["data"],
        "evaluator": {
            "split": trained.metadata["evaluator"]["split"],
            "before_ndcg@10": evaluator_ndcg_at_10(trained.metadata, "before"),
            "after_ndcg@10": evaluator_ndcg_at_10(trained.metadata, "after"),
        },
        "comparison": {
            scope: {k: v for k, v in comparison.items() if k != "per_case"} for scope, comparison in comparisons.items()
        },
        "patient_document_ndcg_at_10_per_document": per_document(suite, comparisons["patient_document"]),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    temp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
