"""The Results tab's content: agreement (raw beside kappa) and a ranking plot reviewers can read.

Bradley-Terry strengths are log-odds, which nobody reads at a glance; the plot shows each
candidate's probability of being preferred over a candidate of average strength, with its 95%
bootstrap interval, on a 0-100% axis with the 50% "no better than average" line. It is an
inline SVG (no JavaScript, no CDN), so it also works in saved pages and reports.
"""

from __future__ import annotations

import html
from typing import Any

from harness.reviews import RUBRIC, RUBRIC_TITLES


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


# Below this many independent judgements a bootstrap interval is mostly noise (often zero-width when
# every vote agreed): the plot greys such rows and says so instead of drawing a confident bar.
MIN_JUDGEMENTS = 10


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def ranking_svg(ranking: list[dict[str, Any]], *, width: int = 560) -> str:
    """Dot-and-interval plot of win probability vs. an average candidate, best first."""
    if not ranking:
        return '<p id="ranking-plot-empty"><em>No votes yet: nothing to rank.</em></p>'
    row_h, left, right, top = 28, 150, 130, 34
    plot_w = width - left - right
    height = top + row_h * len(ranking) + 24

    def x(p: float) -> float:
        return left + plot_w * min(1.0, max(0.0, p))

    parts = [f'<svg id="ranking-plot" role="img" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif" font-size="12">',
             "<title>Ranking: probability of being preferred over an average candidate, with 95% intervals</title>"]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        dash = "" if tick == 0.5 else ' stroke-dasharray="2,3"'
        colour = "#555" if tick == 0.5 else "#bbb"
        parts.append(f'<line x1="{x(tick):.1f}" y1="{top - 6}" x2="{x(tick):.1f}" y2="{height - 20}" '
                     f'stroke="{colour}"{dash}/>')
        parts.append(f'<text x="{x(tick):.1f}" y="{height - 6}" text-anchor="middle" fill="#444">'
                     f"{100 * tick:.0f}%</text>")
    parts.append(f'<text x="{x(0.5):.1f}" y="{top - 12}" text-anchor="middle" fill="#444">'
                 "as good as an average candidate</text>")
    for i, row in enumerate(ranking):
        y = top + row_h * i + row_h / 2
        name = html.escape(str(row["candidate"]))
        n = row.get("judgements", 0)
        few = n < MIN_JUDGEMENTS
        colour = "#9aa0a6" if few else "#1a3d8f"
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{row["rank"]}. {name}</text>')
        if row.get("win_prob_low") is not None and not few:
            parts.append(f'<line class="ci" x1="{x(row["win_prob_low"]):.1f}" y1="{y:.1f}" '
                         f'x2="{x(row["win_prob_high"]):.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="3"/>')
        parts.append(f'<circle cx="{x(row["win_prob"]):.1f}" cy="{y:.1f}" r="5" fill="{colour}">'
                     f"<title>{name}: {_pct(row['win_prob'])} "
                     f"[{_pct(row.get('win_prob_low'))}, {_pct(row.get('win_prob_high'))}], n = {n}</title></circle>")
        label = f"{_pct(row['win_prob'])} (n={n}{', too few' if few else ''})"
        parts.append(f'<text x="{width - right + 6}" y="{y + 4:.1f}" fill="{colour}">{label}</text>')
    parts.append("</svg>")
    caption = ("<p><small>Dot: probability that reviewers prefer this candidate over one of average strength "
               f"(Bradley-Terry); bar: 95% bootstrap interval over reviews; n: reviews that judged it. Bars "
               f"crossing 50% are not distinguishable from average with these votes. Grey, no bar: fewer than "
               f"{MIN_JUDGEMENTS} reviews, too few for an interval worth drawing.</small></p>")
    return "".join(parts) + caption


def _ranking_lines(summary: dict[str, Any]) -> list[str]:
    lines = ["### Ranking (Bradley-Terry, 95% bootstrap CI over reviews)", "",
             "| Rank | Candidate | Fingerprint | Preferred over average | 95% CI | n | Wins | Losses | Ties |",
             "|---:|---|---|---:|---|---:|---:|---:|---:|"]
    for row in summary["ranking"]:
        n = row.get("judgements", 0)
        ci = (f"[{_pct(row.get('win_prob_low'))}, {_pct(row.get('win_prob_high'))}]"
              if row["ci_low"] is not None and n >= MIN_JUDGEMENTS else f"too few (< {MIN_JUDGEMENTS})")
        lines.append(f"| {row['rank']} | {_md_escape(row['candidate'])} | `{row['fingerprint'][:8]}` | "
                     f"{_pct(row.get('win_prob'))} | {ci} | {n} | {row['wins']} | {row['losses']} | {row['ties']} |")
    if not summary["ranking"]:
        lines.append("| – | no decisive votes yet | | | | | | | |")
    return lines


def _agreement_lines(agreement: dict[str, Any]) -> list[str]:
    lines = ["", "### Inter-rater agreement on votes", "",
             f"Cases judged by two or more reviewers: **{agreement['units_multi_rated']}**."
             + (f" {agreement['identical_units_excluded']} comparison(s) with identical responses left out "
                "(no choice was made there)." if agreement.get("identical_units_excluded") else ""), "",
             "| Measure | Value |", "|---|---:|",
             f"| Raw agreement (share of reviewer pairs choosing the same) | {_pct(agreement.get('raw_agreement'))} |",
             f"| Cohen's kappa (mean over reviewer pairs) | {_fmt(agreement['cohen_kappa_mean'])} |",
             f"| Fleiss' kappa | {_fmt(agreement['fleiss_kappa'])} |",
             f"| Krippendorff's alpha (nominal) | {_fmt(agreement['krippendorff_alpha_nominal'])} |", ""]
    if agreement["cohen_kappa_pairs"]:
        lines += ["| Reviewer pair | Shared cases | Raw agreement | Cohen's kappa |", "|---|---:|---:|---:|"]
        lines += [f"| {_md_escape(' & '.join(p['reviewers']))} | {p['units']} | {_pct(p.get('agreement'))} | "
                  f"{_fmt(p['kappa'])} |" for p in agreement["cohen_kappa_pairs"]]
    return lines


def _rubric_lines(summary: dict[str, Any]) -> list[str]:
    lines = ["", "### Rubric", "",
             "| Scale | Mean | Ratings | Multi-rated | Raw agreement (exact) | Krippendorff's alpha (ordinal) |",
             "|---|---:|---:|---:|---:|---:|"]
    for dim in RUBRIC:
        r = summary["rubric"][dim]
        lines.append(f"| {RUBRIC_TITLES[dim]} | {_fmt(r['mean'])} | {r['ratings']} | {r['units_multi_rated']} | "
                     f"{_pct(r.get('raw_agreement'))} | {_fmt(r['krippendorff_alpha_ordinal'])} |")
    if summary["rubric_by_candidate"]:
        lines += ["", "| Candidate | " + " | ".join(RUBRIC_TITLES[d] for d in RUBRIC) + " |",
                  "|---|" + "---:|" * len(RUBRIC)]
        for row in summary["rubric_by_candidate"].values():
            lines.append(f"| {_md_escape(row['candidate'])} | " + " | ".join(_fmt(row[d]) for d in RUBRIC) + " |")
    return lines


def results_markdown(summary: dict[str, Any]) -> str:
    """The Results tab: ranking, vote agreement, rubric agreement (also usable in reports)."""
    votes = summary["votes"]
    lines = [f"**{summary['reviews']} reviews** by {len(summary['reviewers'])} reviewer(s)"
             + (f"; {summary['excluded_non_blind']} non-blind review(s) excluded" if summary["excluded_non_blind"]
                else "")
             + (f"; {summary['superseded_repeats']} earlier repeat vote(s) by the same reviewer on the same "
                "comparison not counted (only the latest)" if summary.get("superseded_repeats") else "")
             + f". Votes: {votes['decisive']} decisive, {votes['tie']} tie, {votes['both_bad']} both bad"
             + (f", {votes['identical']} identical responses (recorded as ties)" if votes.get("identical") else "")
             + ".", ""]
    lines += _ranking_lines(summary) + _agreement_lines(summary["vote_agreement"]) + _rubric_lines(summary)
    lines += ["", "_Raw agreement is what share of judgements matched; kappa and alpha correct it for chance "
              "(1 = perfect, 0 = chance). With one dominant answer, raw agreement can be high while kappa is "
              "near 0: read both. Krippendorff suggests alpha >= 0.8 for conclusions, >= 0.667 for tentative "
              "ones. '–' means undefined: too few overlapping judgements, or all of them in one category._"]
    return "\n".join(lines)
