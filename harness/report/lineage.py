"""Training lineage for the report: the training runs behind a candidate, their loss curves, and its lineage.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from harness.store import Store

# ----------------------------------------------------------------------------- training & lineage


def _mentions(blob: Any, needle: str) -> bool:
    return needle in json.dumps(blob, default=str)


def training_runs_for(store: Store, candidate: dict[str, Any]) -> list[dict[str, Any]]:
    """Training runs behind a candidate: the lineage's ``fingerprint`` first, else any stored training
    fingerprint that appears anywhere in the lineage (embedding fine-tunes, nested stages)."""
    lineage = candidate.get("lineage") or {}
    if not lineage:
        return []
    found: list[dict[str, Any]] = []
    direct = lineage.get("fingerprint") or lineage.get("training_fingerprint")
    if isinstance(direct, str):
        run = store.training_run(direct)
        if run:
            found.append(run)
    seen = {r["fingerprint"] for r in found}
    for row in store.conn.execute("SELECT fingerprint FROM training_runs ORDER BY created_at"):
        fp = row["fingerprint"]
        if fp not in seen and _mentions(lineage, fp):
            run = store.training_run(fp)
            if run:
                found.append(run)
                seen.add(fp)
    return found


def training_curve(run: dict[str, Any]) -> dict[str, Any]:
    """Loss and eval loss per step, with phase bands, from a training run's stored log."""
    log = [r for r in run.get("log") or [] if isinstance(r, dict)]
    loss = [(float(r["step"]), float(r["loss"])) for r in log
            if r.get("step") is not None and _finite(r.get("loss"))]
    eval_loss = [(float(r["step"]), float(r["eval_loss"])) for r in log
                 if r.get("step") is not None and _finite(r.get("eval_loss"))]
    bands: list[dict[str, Any]] = []
    for r in log:
        phase = r.get("phase") or r.get("stage")
        step = r.get("step")
        if phase is None or step is None:
            continue
        if bands and bands[-1]["label"] == phase:
            bands[-1]["end"] = float(step)
        else:
            start = bands[-1]["end"] if bands else 0.0
            bands.append({"label": str(phase), "start": float(start), "end": float(step)})
    return {"loss": loss, "eval_loss": eval_loss, "bands": bands if len(bands) > 1 else [], "rows": log}


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def iso_time(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(float(timestamp), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def candidate_lineage(store: Store, candidate: dict[str, Any]) -> dict[str, Any]:
    """Identity of a candidate for the audit block: fingerprints, model, adapter, data hashes."""
    spec_blob = candidate.get("spec") or {}
    spec = spec_blob.get("spec") or {}
    lineage = candidate.get("lineage") or {}
    datasets = lineage.get("datasets") or {}
    data_hashes = {name: (d.get("hash") if isinstance(d, dict) else d) for name, d in datasets.items()}
    trainings = training_runs_for(store, candidate)
    retriever = spec.get("retriever") or None
    return {
        "label": candidate["label"], "fingerprint": candidate["fingerprint"],
        "backend": spec.get("backend"), "model": spec.get("model"),
        "backend_identity": spec_blob.get("backend_identity"),
        "system": spec.get("system"), "params": spec.get("params") or {},
        # Where the system prompt came from (the candidate's precedence: candidate > Modelfile > suite).
        "system_source": "candidate" if spec.get("system") else
        ("modelfile" if spec_blob.get("modelfile_hashes") or spec.get("modelfile") else "suite"),
        "modelfile": spec.get("modelfile"),
        "adapter_path": spec_blob.get("adapter_path") or lineage.get("adapter_path"),
        "adapter_hash": (spec_blob.get("adapter_identity") or spec_blob.get("adapter_hash")
                         or lineage.get("adapter_hash")),
        "modelfile_hashes": spec_blob.get("modelfile_hashes") or {},
        "retriever": retriever,
        "safety_guard": spec.get("safety_guard"),
        "base_model": lineage.get("base_model"), "base_identity": lineage.get("base_identity"),
        "training_fingerprint": lineage.get("fingerprint"), "training_kind": lineage.get("kind"),
        "training_config": lineage.get("config_name") or lineage.get("config_path"),
        "training_device": lineage.get("device"),
        "training_seed": (lineage.get("config") or {}).get("seed") if isinstance(lineage.get("config"), dict) else None,
        "training_versions": lineage.get("versions") or {},
        "data_hashes": data_hashes,
        "trainings": [{"fingerprint": t["fingerprint"], "kind": t["kind"], "status": t["status"],
                       "metrics": {k: v for k, v in (t.get("metrics") or {}).items() if not isinstance(v, list | dict)},
                       "created": iso_time(t.get("created_at")), "finished": iso_time(t.get("finished_at")),
                       "steps": len(t.get("log") or [])} for t in trainings],
        "lineage": {k: v for k, v in lineage.items() if k != "loss_history"},  # the log is its own export
    }
