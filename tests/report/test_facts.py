"""Facts the report states must be right: run time, guard replacements, per-output time, prompt lineage."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.report import render_run_report
from harness.store import Store


def _card(html: str, anchor: str, label: str) -> str:
    case = html.split(f'id="{anchor}"', 1)[1].split('<details class="case', 1)[0]
    return case.split(f'aria-label="{label} output"', 1)[1].split("</article>", 1)[0]


def test_header_time_is_the_stored_command_time(tmp_path: Path, synthetic_run: Any) -> None:
    store = synthetic_run.copy_store(tmp_path / "store.sqlite")
    run = store.get_run(synthetic_run.run_id) or {}
    store.conn.execute("UPDATE runs SET command_started_at = ?, finished_at = ? WHERE id = ?",
                       (run["started_at"] - 314.0, run["started_at"] + 390.6, synthetic_run.run_id))
    store.conn.commit()
    html = render_run_report(store, synthetic_run.run_id, tmp_path / "reports").read_text()
    shown = re.search(r'class="run-time"[^>]*>([0-9.]+) s<', html)
    assert shown and shown.group(1) == "704.6"  # set-up and training included, as the CLI prints it
    assert Store.run_seconds(store.get_run(synthetic_run.run_id) or {}) == pytest.approx(704.6)


def test_guard_replacement_is_not_called_cut_off_and_times_are_batch_averages(tmp_path: Path,
                                                                               synthetic_run: Any) -> None:
    store = synthetic_run.copy_store(tmp_path / "store.sqlite")
    fp = next(c["fingerprint"] for c in store.run_candidates(synthetic_run.run_id) if c["label"] == "tuned")
    key = store.conn.execute("SELECT cache_key FROM outputs WHERE run_id = ? AND candidate_fp = ? AND case_id = ?",
                             (synthetic_run.run_id, fp, "th-006")).fetchone()[0]
    assert store.conn.execute("SELECT finish_reason FROM generations WHERE cache_key = ?", (key,)).fetchone()[0] \
        == "length"
    meta = {"guard": {"action": "replaced", "reason": "detected risk imminent >= replace_at high",
                      "detected_level": "imminent"}, "unguarded_text": "I think you should try to sleep and"}
    store.conn.execute("UPDATE generations SET meta_json = ?, guard_action = 'replaced', seconds = 2.5"
                       " WHERE cache_key = ?", (json.dumps(meta), key))
    store.conn.commit()
    html = render_run_report(store, synthetic_run.run_id, tmp_path / "reports").read_text()
    card = _card(html, "case-therapy-v1-th-006", "tuned")
    assert "cut off at the token limit</span>" not in card.replace("model's own text cut off at the token limit", "")
    assert "model's own text cut off at the token limit; the guard's message replaced it" in card
    assert "2.5 s (batch average)" in card
    other = _card(html, "case-therapy-v1-th-007", "tuned")  # not replaced, still cut off: says so
    assert 'badge warn">cut off at the token limit' in other


def test_modelfile_candidate_lineage_names_the_modelfile_and_the_guard(tmp_path: Path, synthetic_run: Any) -> None:
    store = synthetic_run.copy_store(tmp_path / "store.sqlite")
    fp = next(c["fingerprint"] for c in store.run_candidates(synthetic_run.run_id) if c["label"] == "careful")
    spec = json.loads(store.conn.execute("SELECT spec_json FROM candidates WHERE fingerprint = ?",
                                         (fp,)).fetchone()[0])
    spec.setdefault("spec", {}).update(system=None, modelfile="../modelfiles/therapy-companion.Modelfile",
                                       safety_guard={"threshold": "moderate", "replace_at": "high"})
    spec["modelfile_hashes"] = {"therapy": "ab" * 32}
    store.conn.execute("UPDATE candidates SET spec_json = ? WHERE fingerprint = ?", (json.dumps(spec), fp))
    store.conn.commit()
    html = render_run_report(store, synthetic_run.run_id, tmp_path / "reports").read_text()
    table = html.split('<table class="candidates">', 1)[1].split("</table>", 1)[0]
    row = table.split(">careful", 1)[1].split("</tr>", 1)[0]
    assert "suite&#39;s system prompt" not in row and "from the Modelfile" in row
    assert "therapy-companion.Modelfile" in row and "&#34;replace_at&#34;: &#34;high&#34;" in row.replace('"', "&#34;")
