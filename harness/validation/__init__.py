"""Agreement of the clinical metrics with human labels: the figures docs/metrics.md quotes.

``run_validation(data_dir)`` reads the shared data folder (never copied into the repo) and the
author-written vignettes (``harness.validation.data.vignettes_dir``), and returns one JSON-able dict:

- mi: AnnoMI-dev expert codes, grouped 5-fold CV by transcript (models retrained per fold, so
  no figure is measured on the data a model was trained on); plus inter-annotator context.
- mi_silver: MIBot counsellor sentences (GPT-4o-written) vs their AutoMISC labels (LLM, silver).
- groundedness: MTS-Dialog automatic summaries vs human factuality scores (Spearman, Kendall).
- empathy: author vignettes (macro-F1 per EPITOME dimension) and MIBot client-rated CARE.
- risk: author vignettes (exact/within-one accuracy, AUC, imminent recall, false alarms) and
  flag rates on real help-seeker / patient text that is expected to be (almost) risk-free.

``validate_user_file(kind, path)`` scores any metric against a user's labelled JSONL file.
Modules: statistics (agreement figures), data (where data lives), mi and datasets (one validator per
data set), render (the docs block), cli (sections, JSON, the argparse front end).
Run: ``python -m harness.validate --data ../shared/data --out docs/metrics-figures.json``.
"""

from harness.validation.cli import SECTIONS, main, run_validation, score_user_files
from harness.validation.data import default_data_dir, vignettes_dir
from harness.validation.datasets import (
    validate_empathy_vignettes,
    validate_epitome,
    validate_mibot_care,
    validate_mts,
    validate_risk_real_text,
    validate_risk_suites,
    validate_risk_vignettes,
    validate_user_file,
)
from harness.validation.mi import WELIVITA_CODES, validate_annomi, validate_mibot_mi, validate_welivita
from harness.validation.render import FIGURES_END, FIGURES_START, headline, render_markdown, update_docs
from harness.validation.statistics import risk_figures

__all__ = [
    "FIGURES_END", "FIGURES_START", "SECTIONS", "WELIVITA_CODES", "default_data_dir", "headline", "main",
    "render_markdown", "risk_figures", "run_validation", "score_user_files", "update_docs", "validate_annomi",
    "validate_empathy_vignettes", "validate_epitome", "validate_mibot_care", "validate_mibot_mi", "validate_mts",
    "validate_risk_real_text", "validate_risk_suites", "validate_risk_vignettes", "validate_user_file",
    "validate_welivita", "vignettes_dir",
]
