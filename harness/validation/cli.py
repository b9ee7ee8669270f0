"""`harness validate-metrics` / `python -m harness.validate`: run the sections, write JSON and docs."""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.validate_user import USER_KINDS
from harness.validation.data import default_data_dir
from harness.validation.data import vignettes_dir as default_vignettes_dir
from harness.validation.datasets import (
    validate_empathy_vignettes,
    validate_epitome,
    validate_mibot_care,
    validate_mts,
    validate_risk_real_text,
    validate_risk_suites,
    validate_risk_vignettes,
)
from harness.validation.mi import validate_annomi, validate_mibot_mi, validate_welivita
from harness.validation.render import headline, update_docs

# --- everything ------------------------------------------------------------------------------------------------


SECTIONS = (
    "mi",
    "mi_welivita",
    "empathy_epitome",
    "mi_silver",
    "empathy_care",
    "groundedness",
    "risk_vignettes",
    "risk_suites",
    "empathy_vignettes",
    "risk_real_text",
)


def run_validation(
    data_dir: Path,
    *,
    encoders: Sequence[str] = ("lexical",),
    vignettes_dir: Path | None = None,
    folds: int = 5,
    sections: Sequence[str] | None = None,
) -> dict[str, Any]:
    """All validation figures as one JSON-able dict; sections whose data is missing are skipped.

    ``sections`` limits the run to some of ``SECTIONS`` (the MI cross-validation takes most of
    the time; the risk and empathy sections take seconds). ``data_dir`` may also be a labelled
    JSONL file, validated with ``validate_user_file``.
    """
    data_dir = Path(data_dir)
    if data_dir.is_file():
        from harness.validate_user import validate_labelled_file

        return {"user_files": validate_labelled_file(data_dir, None, encoders[0])[0]}
    wanted = set(sections or SECTIONS)
    unknown = wanted - set(SECTIONS)
    if unknown:
        raise ConfigError(f"unknown validation sections {sorted(unknown)} (known: {', '.join(SECTIONS)})")
    vignettes = vignettes_dir or default_vignettes_dir()
    has_vignettes = vignettes is not None and vignettes.exists()
    started = time.perf_counter()
    results: dict[str, Any] = {
        "meta": {
            "date": date.today().isoformat(),
            "command": "python -m harness.validate --data <shared/data> "
            + " ".join(f"--encoder {e}" for e in encoders),
            "python": platform.python_version(),
            "data_dir": str(data_dir),
            "skipped": [],
        }
    }
    skipped = results["meta"]["skipped"]
    annomi = data_dir / "annomi-dev"
    mibot = data_dir / "mibot-mi-smoking"
    mts = data_dir / "mts-dialog"
    available = {
        "mi": (annomi / "AnnoMI-full.csv").exists(),
        "mi_welivita": (data_dir / "welivita-mi" / "test_output.csv").exists(),
        "empathy_epitome": (data_dir / "epitome-dev" / "interpretations-reddit.csv").exists(),
        "mi_silver": (mibot / "data.csv").exists(),
        "empathy_care": (mibot / "data.csv").exists(),
        "groundedness": (mts / "MTS-Dialog-Manual-Scores4CorrelationStudy.csv").exists(),
        "risk_vignettes": has_vignettes,
        "risk_suites": True,
        "empathy_vignettes": has_vignettes,
        "risk_real_text": data_dir.exists(),
    }
    runners = {
        "mi": lambda: validate_annomi(annomi, encoders, folds),
        "mi_welivita": lambda: {enc: validate_welivita(data_dir / "welivita-mi", enc) for enc in encoders},
        "empathy_epitome": lambda: validate_epitome(data_dir / "epitome-dev"),
        "mi_silver": lambda: {enc: validate_mibot_mi(mibot, enc) for enc in encoders},
        "empathy_care": lambda: validate_mibot_care(mibot),
        "groundedness": lambda: validate_mts(mts),
        "risk_vignettes": lambda: validate_risk_vignettes(_jsonl_files(vignettes, "risk_vignettes*.jsonl")),
        "risk_suites": validate_risk_suites,
        "empathy_vignettes": lambda: validate_empathy_vignettes(_jsonl_files(vignettes, "empathy_vignettes*.jsonl")),
        "risk_real_text": lambda: validate_risk_real_text(data_dir),
    }
    for name in SECTIONS:
        if name not in wanted:
            continue
        if not available[name]:
            skipped.append(f"{name} (data not found)")
            continue
        results[name] = runners[name]()
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    return results


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness validate-metrics",
        description="Validate metrics against human labels: the development data (--data DIR) or your own "
        "labelled files (--file [KIND=]PATH: JSONL, EPITOME-format CSV or AnnoMI-format CSV), scored with the "
        "shipped models; per-item predictions are written beside the figures.",
    )
    parser.add_argument(
        "--data", type=Path, default=None, help="shared data folder (default: $HARNESS_SHARED_DATA or ../shared/data)"
    )
    parser.add_argument("--out", type=Path, help="write the full results JSON here (e.g. docs/metrics-figures.json)")
    parser.add_argument(
        "--update-docs", type=Path, help="refresh the figures block of this markdown file (docs/metrics.md)"
    )
    parser.add_argument(
        "--encoder",
        action="append",
        choices=("lexical", "minilm", "minilm_pair"),
        help="encoders to validate (minilm_pair: the MI pair model; your MI files, mi_welivita and mi_silver only)",
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--section", action="append", choices=SECTIONS, help="only these sections; merged into an existing --out file"
    )
    parser.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="[KIND=]PATH",
        help=f"score a labelled file instead of the development data ({', '.join(USER_KINDS)}); the kind is read "
        "from the file when not given",
    )
    parser.add_argument(
        "--predictions",
        type=Path,
        help="per-item predictions for --file (default: beside --out as <out>.predictions.jsonl, else "
        "./validate-metrics.predictions.jsonl)",
    )
    return parser


def score_user_files(specs: Sequence[str], encoder: str, predictions: Path) -> dict[str, Any]:
    """Score ``[KIND=]PATH`` files with the shipped models; write every item's prediction as JSONL."""
    from harness.validate_user import validate_labelled_file

    figures: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for spec in specs:
        kind, sep, path = spec.partition("=")
        if not sep:
            kind, path = "", spec
        f, r = validate_labelled_file(Path(path), kind or None, encoder)
        figures += f
        rows += r
    predictions.parent.mkdir(parents=True, exist_ok=True)
    with predictions.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"user_files": figures, "predictions": str(predictions)}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from harness.metrics.models import _limit_threads

    _limit_threads()
    encoders = args.encoder or ["lexical"]
    _check_pair_encoder(encoders, args)
    specs = list(args.file) + ([str(args.data)] if args.data is not None and args.data.is_file() else [])
    if specs:
        default = args.out.with_suffix(".predictions.jsonl") if args.out else Path("validate-metrics.predictions.jsonl")
        results = score_user_files(specs, encoders[0], args.predictions or default)
        if args.section and args.data is not None and args.data.is_dir():
            results.update(run_validation(args.data, encoders=encoders, folds=args.folds, sections=args.section))
    else:
        results = _validate_dev_data(args, encoders)
    text = json.dumps(results, indent=2, sort_keys=False)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    if args.update_docs:
        update_docs(args.update_docs, results)
    if "meta" in results and "command" in results["meta"]:
        print("\n".join(f"{a}: {b}  [{c}]" if c else f"{a}: {b}" for a, b, c in headline(results)))
    else:
        print(text)
    return 0


PAIR_SECTIONS = frozenset({"mi_welivita", "mi_silver"})


def _check_pair_encoder(encoders: Sequence[str], args: argparse.Namespace) -> None:
    """The MI pair model is scored as shipped: cross-validation would fine-tune MiniLM per fold (hours)."""
    if "minilm_pair" not in encoders or args.file or (args.data is not None and args.data.is_file()):
        return
    if not args.section or not set(args.section) <= PAIR_SECTIONS:
        raise ConfigError(
            "--encoder minilm_pair scores MI files with the shipped pair model; on the development data it "
            f"runs the sections {', '.join(sorted(PAIR_SECTIONS))} only",
            hint="its AnnoMI held-out figures: PYTHONPATH=. python bench/mi_pair_holdout.py score "
            "harness/metrics/weights/mi_behaviour-minilm_pair.npz",
        )


def _validate_dev_data(args: argparse.Namespace, encoders: Sequence[str]) -> dict[str, Any]:
    data_dir = args.data or default_data_dir()
    if not data_dir.exists():
        return {"meta": {"skipped": [f"shared data not found at {data_dir}"]}}
    results = run_validation(data_dir, encoders=encoders, folds=args.folds, sections=args.section)
    if args.section and args.out and args.out.exists():
        # refresh some sections of a full run: keep the others, record what was recomputed when
        previous = json.loads(args.out.read_text(encoding="utf-8"))
        refreshed = {k: v for k, v in results.items() if k != "meta"}
        previous.update(refreshed)
        previous.setdefault("meta", {}).setdefault("refreshed", []).append(
            {"sections": sorted(refreshed), "date": results["meta"]["date"]}
        )
        results = previous
    return results



def _jsonl_files(folder: Path | None, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern)) if folder is not None else []
