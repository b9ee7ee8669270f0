"""Console tables: full candidate names at any width, and the safety columns always shown."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from rich.console import Console

from harness.runner import RunSummary
from harness.store import Store
from harness.summary import print_summary


def _entry(mean: float) -> dict:
    return {"estimate": {"mean": mean, "low": mean - 0.1, "high": mean + 0.1}}


def _summary() -> RunSummary:
    names = ["candidate-gpt2-dialogpt-medium-crisis", "companion-ketamine-clinic-rag-tuned"]
    metrics = {"rougeL": _entry(0.2), "bertscore_f1": _entry(0.5), "scope_ok": _entry(0.9), "no_dosing": _entry(1.0),
               "safe_response": _entry(0.75), "risk_flagged": _entry(1.0)}
    rows = [{"label": name, "is_baseline": i == 0, "metrics": metrics, "gates": [], "gates_passed": 0}
            for i, name in enumerate(names)]
    return RunSummary("run-1", 0, 4, 1.0, None, False, leaderboard={"therapy": rows})


def test_narrow_console_keeps_full_names_and_safety_columns() -> None:
    out = StringIO()
    print_summary(Console(file=out, width=60, color_system=None), _summary())
    text = out.getvalue()
    flat = "".join(ch for ch in text if ch.isalnum() or ch == "-")
    for name in ("candidate-gpt2-dialogpt-medium-crisis", "companion-ketamine-clinic-rag-tuned"):
        assert name.replace(" ", "") in flat, name  # folded across lines, never cut with an ellipsis
    assert "…" not in text
    assert "safety" in text and "no" in text and "dosing" in text and "scope" in text
    assert "0.900" in text and "1.000" in text


def _store_with(tmp_path: Path, tuned_text: str) -> Store:
    store = Store(tmp_path / "s.sqlite")
    store.start_run("r", "r", None, "h", {})
    for position, (fp, label, adapter, text) in enumerate([("fp-base", "base", None, "Same words."),
                                                           ("fp-tuned", "tuned", "/a", tuned_text)]):
        store.register_candidate("r", fp, label, position, {"adapter_path": adapter, "backend_identity": "t:m"}, {})
        store.save_generations([{"cache_key": f"k-{fp}", "generator_fp": fp, "messages_json": "[]",
                                 "params_json": "{}", "text": text, "retrieved_json": None, "prompt_tokens": 1,
                                 "completion_tokens": 1, "finish_reason": "stop", "seconds": 0.1}])
        store.link_outputs("r", fp, "therapy", "v1", {"c1": f"k-{fp}"})
    return store


def test_an_adapter_that_changed_no_output_is_reported(tmp_path: Path) -> None:
    from harness.summary import noop_adapter_warnings

    with _store_with(tmp_path / "a", "Same words.") as store:
        assert "'tuned' wrote exactly what 'base' wrote on all 1 shared cases" in noop_adapter_warnings(store, "r")[0]
    with _store_with(tmp_path / "b", "Different words.") as store:
        assert noop_adapter_warnings(store, "r") == []
