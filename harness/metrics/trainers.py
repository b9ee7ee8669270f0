"""``harness train-metric NAME``: one trainer per metric model, looked up in ``TRAINERS``.

Each trainer reads labelled files from a local folder (never downloads), records the data files'
sha256, the settings and the cross-validated figures in the JSON sidecar of every weight file, and
writes the weights where the metrics load them by default (``harness/metrics/weights``) unless
``out_dir`` says otherwise. Add a metric model: write ``train_<name>(data, encoder, out_dir, log)``
and add one line to ``TRAINERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.metrics.models import WEIGHTS_DIR


def _data_folder(data: Path | None, sub: str) -> Path:
    """``data`` itself if it holds the files, else ``data/<sub>``; default: the shared data folder."""
    from harness.paths import shared_data_dir

    base = Path(data) if data is not None else shared_data_dir()
    for candidate in (base, base / sub):
        if candidate.is_dir() and any(candidate.glob("*.csv")):
            return candidate
    raise ConfigError(f"no labelled CSV files for {sub} under {base}", hint="pass --data pointing at the folder")


def train_empathy_metric(data: Path | None, encoder: str, out_dir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """EPITOME-format CSVs (emotional-reactions / interpretations / explorations) -> empathy_{er,ip,ex}."""
    from harness.metrics.empathy_train import read_epitome_dir, train_empathy

    folder = _data_folder(data, "epitome-dev")
    return train_empathy(read_epitome_dir(folder), encoder, out_dir=out_dir, log=log)


def train_mi_metric(data: Path | None, encoder: str, out_dir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """AnnoMI-format CSVs (AnnoMI-simple.csv + AnnoMI-full.csv) -> mi_behaviour / mi_question / mi_reflection."""
    import json

    from harness.metrics.models import train_default_weights

    folder = _data_folder(data, "annomi-dev")
    if encoder == "minilm_pair":
        return _train_mi_pair(folder, out_dir, log)
    written = train_default_weights(folder, [encoder], with_cv=True, out_dir=out_dir)
    figures = {}
    for path in written:
        cv = json.loads(path.with_suffix(".json").read_text()).get("grouped_cv", {})
        figures[path.stem] = cv
        log(f"{path.stem}: grouped CV macro-F1 {cv.get('macro_f1')} (accuracy {cv.get('accuracy')}) -> {path}")
    return figures


def _train_mi_pair(folder: Path, out_dir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """LoRA MiniLM behaviour model on every AnnoMI therapist utterance of ``folder`` (15-25 min on 2 cores).

    No cross-validation here (one fit is the slow part); the shipped adapter's held-out figures come
    from ``bench/mi_pair_holdout.py``, which trains it on 75 AnnoMI-dev transcripts and scores 32 others.
    """
    from datetime import date

    from harness.metrics.mi_pair import pair_weights_path
    from harness.metrics.mi_pair_train import train_pair_weights
    from harness.metrics.models import _sha256, annomi_examples

    source = folder / "AnnoMI-simple.csv"
    examples = annomi_examples(folder, "mi_behaviour", with_context=True)
    provenance = {
        "trained_on": [{"file": source.name, "sha256": _sha256(source)}],
        "trained": date.today().isoformat(),
        "script": f"harness train-metric mi --encoder minilm_pair --data {folder}",
    }
    path = train_pair_weights(examples, Path(out_dir) / pair_weights_path().name, provenance, log=log)
    log(f"mi_behaviour-minilm_pair: {len(examples)} utterances -> {path}")
    return {"weights": str(path), "n_examples": len(examples)}


def train_risk_metric(data: Path | None, encoder: str, out_dir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """The risk detector's learned half: the repository's risk vignettes + suites, SDCNL for the weak head."""
    from harness.metrics.risk_model import weights_path
    from harness.metrics.risk_training import train_risk_model
    from harness.paths import repo_root, shared_data_dir

    out = Path(out_dir) / weights_path(encoder).name
    path, meta = train_risk_model(Path(data) if data else shared_data_dir(), repo_root() / "tests" / "metrics" /
                                  "vignettes", encoder=encoder, out=out, log=log)
    log(f"risk ({encoder}): thresholds {meta['thresholds']} -> {path}")
    return {"weights": str(path), "thresholds": meta["thresholds"], **meta["grouped_cv"]}


TRAINERS: dict[str, Callable[[Path | None, str, Path, Callable[[str], None]], dict[str, Any]]] = {
    "risk": train_risk_metric,
    "empathy": train_empathy_metric,
    "mi": train_mi_metric,
}


def train_metric(
    name: str, data: Path | None = None, encoder: str = "lexical", out_dir: Path | None = None, log: Any = print
) -> dict[str, Any]:
    if name not in TRAINERS:
        raise ConfigError(f"unknown metric model {name!r} (known: {', '.join(TRAINERS)})")
    from harness.metrics.mi import MI_ENCODERS
    from harness.metrics.models import ENCODERS, _limit_threads

    known = MI_ENCODERS if name == "mi" else ENCODERS
    if encoder not in known:
        raise ConfigError(f"unknown encoder {encoder!r} for {name} (known: {', '.join(known)})")
    _limit_threads()
    return TRAINERS[name](data, encoder, Path(out_dir) if out_dir else WEIGHTS_DIR, log)
