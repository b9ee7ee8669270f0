"""Builders for the public counselling datasets in the shared data folder: CounselChat (CSV) and AnnoMI.
"""

from __future__ import annotations

import csv
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.paths import shared_data_dir
from harness.variants.config import AnnomiDataset, CounselChatDataset
from harness.variants.records import _clean, _resolve_path, _with_system


def _read_csv(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _build_counselchat(name: str, spec: CounselChatDataset, system: str | None,
                       base_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    if spec.path is None and spec.hub_id is not None:
        if os.environ.get("HF_HUB_OFFLINE") == "1":
            raise ConfigError(
                f"dataset {name!r}: hub_id {spec.hub_id!r} needs the Hugging Face hub, but HF_HUB_OFFLINE=1",
                hint="set 'path:' to a local CSV (the nbertagnolli/counsel-chat repo's data/20200325_counsel_chat.csv)",
            )
        from datasets import load_dataset

        rows = [dict(r) for r in load_dataset(spec.hub_id, split="train")]
        source = f"hub:{spec.hub_id}"
    else:
        default = shared_data_dir() / "counselchat" / "20200325_counsel_chat.csv"
        path = _resolve_path(spec.path, base_dir, default, "path", name)
        if path.is_dir():
            path = path / "20200325_counsel_chat.csv"
        rows = _read_csv(path)
        source = str(path)
    if rows and "answerText" not in rows[0]:
        raise ConfigError(f"dataset {name!r}: {source} has no 'answerText' column; expected a CounselChat CSV")
    has_split = bool(rows) and "split" in rows[0]
    if not has_split and set(spec.splits) != {"train"}:
        raise ConfigError(f"dataset {name!r}: {source} has no 'split' column, so only splits: [train] is possible")
    by_question: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if has_split and row.get("split") not in spec.splits:
            continue
        topic = (row.get("topic") or row.get("topics") or "").strip()
        if spec.topics and topic not in spec.topics:
            continue
        question = _clean(row.get("questionText") or "") or _clean(row.get("questionTitle") or "")
        answer = _clean(row.get("answerText") or "")
        try:
            upvotes = int(float(row.get("upvotes") or 0))
        except ValueError:
            upvotes = 0
        if not question or not answer or upvotes < spec.min_upvotes:
            continue
        if spec.max_answer_words and len(answer.split()) > spec.max_answer_words:
            continue
        by_question[str(row.get("questionID"))].append({"q": question, "a": answer, "up": upvotes})
    records = []
    for qid in sorted(by_question, key=str):
        answers = sorted(by_question[qid], key=lambda a: (-a["up"], a["a"]))
        for index, answer in enumerate(answers[:1] if spec.best_answer_only else answers):
            messages = _with_system([{"role": "user", "content": answer["q"]},
                                     {"role": "assistant", "content": answer["a"]}], system)
            records.append({"id": f"counselchat:{qid}:{index}", "messages": messages})
    return records, {"source": source, "questions": len(by_question)}


def _build_annomi(name: str, spec: AnnomiDataset, system: str | None,
                  base_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    default = shared_data_dir() / "annomi-dev" / "AnnoMI-full.csv"
    path = _resolve_path(spec.path, base_dir, default, "path", name)
    if path.is_dir():
        path = path / "AnnoMI-full.csv"
    rows = _read_csv(path)
    if rows and not {"transcript_id", "utterance_id", "interlocutor", "utterance_text"} <= set(rows[0]):
        raise ConfigError(f"dataset {name!r}: {path} is not an AnnoMI CSV (needs transcript_id, utterance_id, "
                          "interlocutor, utterance_text)")
    transcripts: dict[str, dict[int, dict[str, str]]] = defaultdict(dict)
    for row in rows:
        if row.get("mi_quality") not in spec.mi_quality:
            continue
        # AnnoMI-full repeats an utterance once per annotator: keep the first.
        transcripts[row["transcript_id"]].setdefault(int(row["utterance_id"]), row)
    records = []
    for tid in sorted(transcripts, key=lambda t: int(t) if t.isdigit() else t):
        turns: list[dict[str, Any]] = []
        for uid in sorted(transcripts[tid]):
            row = transcripts[tid][uid]
            role = "assistant" if row["interlocutor"] == "therapist" else "user"
            text = _clean(row["utterance_text"])
            if not text:
                continue
            if turns and turns[-1]["role"] == role:
                turns[-1]["content"] += " " + text
                turns[-1]["end"] = uid
            else:
                turns.append({"role": role, "content": text, "end": uid})
        therapist_ends = [i for i, t in enumerate(turns) if t["role"] == "assistant"
                          and any(u["role"] == "user" for u in turns[:i])
                          and len(t["content"].split()) >= spec.min_therapist_words]
        for i in therapist_ends[:: spec.stride]:
            window = turns[max(0, i - spec.window_turns + 1): i + 1]
            while window and window[0]["role"] != "user":
                window = window[1:]
            messages = [{"role": t["role"], "content": t["content"]} for t in window]
            records.append({"id": f"annomi:{tid}:{turns[i]['end']}", "messages": _with_system(messages, system)})
    return records, {"source": str(path), "transcripts": len(transcripts)}
