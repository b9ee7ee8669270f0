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
    written = train_default_weights(folder, [encoder], with_cv=True, out_dir=out_dir)
    figures = {}
    for path in written:
        cv = json.loads(path.with_suffix(".json").read_text()).get("grouped_cv", {})
        figures[path.stem] = cv
        log(f"{path.stem}: grouped CV macro-F1 {cv.get('macro_f1')} (accuracy {cv.get('accuracy')}) -> {path}")
    return figures


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
    from harness.metrics.models import ENCODERS, _limit_threads

    if encoder not in ENCODERS:
        raise ConfigError(f"unknown encoder {encoder!r} (known: {', '.join(ENCODERS)})")
    _limit_threads()
    return TRAINERS[name](data, encoder, Path(out_dir) if out_dir else WEIGHTS_DIR, log)
