"""Self-contained HTML reports (no CDN, no network requests) rendered from the store."""

from harness.report.render import render_index, render_run_report

__all__ = ["render_index", "render_run_report"]
