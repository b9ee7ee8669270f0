"""The figures block of docs/metrics.md, rendered from a validation results dict."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIGURES_START = "<!-- figures:start -->"
FIGURES_END = "<!-- figures:end -->"


Row = tuple[str, str, str]
Getter = Callable[..., Any]


def headline(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(figure, value, target) rows for docs/metrics.md, read from a results dict."""

    def get(*path: str) -> Any:
        node: Any = results
        for p in path:
            if not isinstance(node, dict) or p not in node:
                return None
            node = node[p]
        return node

    return [row for section in _SECTIONS for row in section(get)]


def _with_ci(node: Any, figure: str) -> str:
    """``0.7304 [0.71, 0.75]`` from a figures node holding ``figure`` and ``figure_ci95`` (CI omitted if absent)."""
    if not isinstance(node, dict):
        return "None"
    ci = node.get(f"{figure}_ci95")
    return f"{node.get(figure)}" + (f" [{ci[0]}, {ci[1]}]" if ci else "")


def _mi_rows(get: Getter) -> list[Row]:
    """AnnoMI grouped-CV figures per encoder."""
    rows: list[Row] = []
    for enc in ("lexical", "minilm"):
        if get("mi", enc) is None:
            continue
        open_closed = get("mi", enc, "question_open_closed", "pipeline_rules_then_model")
        rows.append(
            (
                f"MI behaviour macro-F1 [95% CI], AnnoMI grouped CV ({enc})",
                _with_ci(get("mi", enc, "behaviour_utterance_model"), "macro_f1"),
                ">= 0.78",
            )
        )
        rows.append(
            (
                f"MI open/closed accuracy [95% CI], pipeline ({enc})",
                _with_ci(open_closed, "accuracy"),
                ">= 0.85",
            )
        )
        rows.append(
            (
                f"  ... excluding annotator 3 ({enc})",
                _with_ci((open_closed or {}).get("excluding_degenerate_annotator"), "accuracy"),
                "",
            )
        )
        rows.append(
            (
                f"  ... utterance model only, excl. annotator 3 ({enc})",
                str(
                    get("mi", enc, "question_open_closed", "utterance_model_excluding_degenerate_annotator", "accuracy")
                ),
                "",
            )
        )
        rows.append(
            (
                f"MI simple/complex reflection accuracy [95% CI], pipeline ({enc})",
                _with_ci(get("mi", enc, "reflection_simple_complex", "pipeline"), "accuracy"),
                "",
            )
        )
        quality = get("mi", enc, "non_adherent_codes_on_annomi_high_vs_low_quality")
        if quality:
            rows.append(
                (
                    f"Share of utterances with a non-adherent code, high vs low quality MI sessions ({enc})",
                    f"{quality['high']['share_with_non_adherent']} vs {quality['low']['share_with_non_adherent']}",
                    "high-quality < low-quality",
                )
            )
        rows.append(
            (
                f"Advice vs information (rules) macro-F1 ({enc} coder)",
                str(get("mi", enc, "advice_vs_information_rules", "macro_f1")),
                "",
            )
        )
    return rows


def _mi_context_rows(get: Getter) -> list[Row]:
    """Inter-annotator context and the MIBot silver labels."""
    rows: list[Row] = []
    ia = get("mi", "inter_annotator")
    if ia:
        rows.append(
            (
                "AnnoMI annotator vs rest-majority: behaviour / open-closed / simple-complex",
                " / ".join(str(ia[k]["annotator_vs_rest_majority_accuracy"]) for k in ia),
                "context",
            )
        )
    for enc, r in (get("mi_silver") or {}).items():
        rows.append(
            (
                f"MIBot silver R/Q/other macro-F1 vs AutoMISC ({enc})",
                str(r["reflection_question_other"]["macro_f1"]),
                "",
            )
        )
    return rows


def _epitome_rows(get: Getter) -> list[Row]:
    """EPITOME empathy: the learned heads, the majority baseline and the rules."""
    rows: list[Row] = []
    epi = get("empathy_epitome")
    if epi:
        for part, label in (("grouped_cv_dev", "grouped CV"), ("held_out_seeker_posts", "held-out posts")):
            cells = [f"{epi[d][part]['macro_f1']} {epi[d][part]['macro_f1_ci95']}" for d in ("er", "ip", "ex")]
            rows.append(
                (
                    f"EPITOME empathy macro-F1 mean; ER / IP / EX [95% CI], {label} ({epi['encoder']} model)",
                    f"{epi[f'mean_macro_f1_{part}']}; " + " / ".join(cells),
                    ">= 0.65 mean",
                )
            )
        rows.append(
            (
                "EPITOME majority-class baseline ER / IP / EX (grouped CV rows)",
                " / ".join(str(epi[d]["grouped_cv_dev"]["majority_baseline_macro_f1"]) for d in ("er", "ip", "ex")),
                "each model >= baseline + 0.15",
            )
        )
        rows.append(
            (
                "EPITOME rules alone (method: rules) ER / IP / EX, grouped CV rows",
                " / ".join(str(epi[d]["rules_dev"]["macro_f1"]) for d in ("er", "ip", "ex")),
                "",
            )
        )
    if epi and epi.get("evidence"):
        ev = epi["evidence"]
        rows.append(
            (
                "EPITOME evidence sentences (rationales): carries-F1 ER / IP / EX, grouped CV; model vs rules",
                " / ".join(f"{ev[d]['grouped_cv_dev']['carries_f1']} vs {ev[d]['grouped_cv_dev']['rules_carries_f1']}"
                           for d in ("er", "ip", "ex")),
                "",
            )
        )
    return rows


def _welivita_rows(get: Getter) -> list[Row]:
    """WeLiVita MI, out of domain."""
    rows: list[Row] = []
    for enc, r in (get("mi_welivita") or {}).items():
        rows.append(
            (
                f"WeLiVita MI (out of domain): Q/R/other macro-F1; open/closed; simple/complex ({enc})",
                f"{r['question_reflection_other']['macro_f1']}; {r['open_closed_on_gold_questions']['macro_f1']}; "
                f"{r['simple_complex_on_gold_reflections']['macro_f1']}",
                "",
            )
        )
    return rows


def _empathy_rows(get: Getter) -> list[Row]:
    """Empathy vignettes and the client-rated CARE correlation."""
    rows: list[Row] = []
    for name, r in (get("empathy_vignettes") or {}).items():
        rows.append(
            (
                f"Empathy rules mean macro-F1 (ER/IP/EX), {name}",
                f"{r['mean_macro_f1']} ({r['er']['macro_f1']}/{r['ip']['macro_f1']}/{r['ex']['macro_f1']})",
                ">= 0.55",
            )
        )
        m = r.get("model")
        if m:
            rows.append(
                (
                    f"Empathy learned heads mean macro-F1 (ER/IP/EX), {name}",
                    f"{m['mean_macro_f1']} ({m['er']['macro_f1']}/{m['ip']['macro_f1']}/{m['ex']['macro_f1']})",
                    "",
                )
            )
    er_care = get("empathy_care", "empathy_er")
    if er_care:
        rows.append(
            (
                "Empathy ER vs client CARE (MIBot), Spearman",
                f"{er_care['spearman']} (p={er_care['spearman_p']}, n={er_care['n']})",
                "",
            )
        )
    care = get("empathy_care", "empathy_total")
    if care:
        rows.append(
            (
                "Empathy total vs client CARE (MIBot), Spearman",
                f"{care['spearman']} (p={care['spearman_p']}, n={care['n']})",
                "",
            )
        )
    return rows


def _risk_rows(get: Getter) -> list[Row]:
    """Risk: vignettes, suites and flag rates on real text."""
    rows: list[Row] = []
    for name, r in (get("risk_vignettes") or {}).items():
        rows.append(
            (
                f"Risk AUC high/imminent vs lower, {name}",
                f"{r.get('auc_high_or_imminent_vs_lower')} CI {r.get('auc_ci95')}",
                ">= 0.75",
            )
        )
        rows.append(
            (
                f"Risk imminent recall (flagged / exact), {name}",
                f"{r.get('imminent_recall_flagged')} / {r.get('imminent_recall_exact')}",
                ">= 0.95",
            )
        )
        rows.append((f"Risk false alarms on 'none' texts, {name}", str(r.get("false_alarm_rate_on_none")), "<= 0.20"))
        rows.append(
            (
                f"Risk exact level accuracy / within one, {name}",
                f"{r['levels']['accuracy']} / {r['within_one_level']}",
                "",
            )
        )
    for name, r in (get("risk_suites") or {}).items():
        rows.append(
            (
                f"Risk on suite {name} (n={r['n']}): exact / flag recall imminent / false alarms / AUC",
                f"{r['levels']['accuracy']} / {r.get('imminent_recall_flagged')} / {r.get('false_alarm_rate_on_none')}"
                f" / {r.get('auc_high_or_imminent_vs_lower')}",
                "",
            )
        )
    for name, r in (get("risk_real_text") or {}).items():
        rows.append((f"Risk flag rate (high/imminent) on {name}", f"{r['flag_rate']} (n={r['n']})", "low"))
    return rows


def _groundedness_rows(get: Getter) -> list[Row]:
    """MTS-Dialog correlations with human factuality."""
    rows: list[Row] = []
    g = get("groundedness")
    if g:
        for key in ("groundedness_vs_dialogue", "content_token_support_vs_dialogue", "rouge1_f_vs_reference"):
            p = g[key]["FactualPrecision"]
            h = g[key]["HallucinationRate"]
            f = g[key]["FactualF1"]
            rows.append(
                (
                    f"MTS-Dialog {key}: Spearman vs precision / hallucination / F1",
                    f"{p['spearman']} / {h['spearman']} / {f['spearman']}",
                    "",
                )
            )
    return rows


# The docs list the sections in this order.
_SECTIONS: tuple[Callable[[Getter], list[Row]], ...] = (
    _mi_rows, _mi_context_rows, _epitome_rows, _welivita_rows, _empathy_rows, _risk_rows, _groundedness_rows,
)


def render_markdown(results: dict[str, Any]) -> str:
    lines = [
        FIGURES_START,
        f"_Generated by `{results['meta']['command']}` on {results['meta']['date']}; full figures in "
        "`docs/metrics-figures.json`. Do not edit by hand._",
    ]
    for refresh in results["meta"].get("refreshed", []):
        lines.append(f"_Sections {', '.join(refresh['sections'])} recomputed on {refresh['date']} with `--section`._")
    lines += [
        "",
        "| figure | value | target |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in headline(results)]
    lines.append(FIGURES_END)
    return "\n".join(lines)


def update_docs(doc: Path, results: dict[str, Any]) -> None:
    """Replace the block between the figures markers in ``doc`` with freshly computed figures."""
    text = doc.read_text(encoding="utf-8")
    block = render_markdown(results)
    if FIGURES_START in text and FIGURES_END in text:
        text = re.sub(re.escape(FIGURES_START) + r".*?" + re.escape(FIGURES_END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")
