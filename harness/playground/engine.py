"""What the playground does, without the UI: pick cases, generate through the harness's own
Candidate and generation cache, compute badges, and save judgements.

Kept apart from the Gradio code so it can be tested directly and so the UI holds no logic
that decides what gets stored. Live generation goes through ``Candidate.generate`` with the
run store, so a case generated here and in ``harness run`` is the same cached output. A free
prompt without the reviewer's consent is generated against a throwaway in-memory store, so its
text is never written to disk (not even to the generation cache).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.candidate import Candidate
from harness.config import ExperimentConfig, load_experiment
from harness.errors import ConfigError
from harness.playground.accounts import ReviewerAccounts
from harness.playground.badges import BadgeScorer, badges_html, guard_note_html
from harness.playground.case_text import case_input_text, case_reference_markdown
from harness.playground.live import Progress, Speed, stream_generation
from harness.prompting import build_messages, format_passages, render_user_turn
from harness.review_design import all_identical, identical_groups, missing_rubric, rubric_scores
from harness.reviews import (
    LABELS,
    MAX_SHOWN,
    RUBRIC,
    RUBRIC_TITLES,
    ReviewInput,
    ShownResponse,
    clean_reviewer_name,
    comparison_key,
    comparison_order,
    ensure_review_schema,
    existing_vote,
    register_reviewer,
    save_review,
)
from harness.store import Store
from harness.suite import Case, Suite, available_suites, available_versions, load_suite, parse_suite_ref

log = logging.getLogger(__name__)

FREE_PREFIX = "free:"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Comparison:
    """One side-by-side comparison in progress (lives in the browser session's gr.State)."""

    reviewer: str
    suite: str
    version: str
    suite_hash: str
    case_id: str
    source: str  # suite | free
    split: str | None
    order: list[str]  # candidate names in display order (A, B, ...)
    blind: bool
    order_seed: str | None
    consent: bool = False
    free_text: str | None = None
    assignment_id: int | None = None
    shown_at: float = field(default_factory=time.time)
    responses: list[dict[str, Any]] = field(default_factory=list)  # per label, filled as generated
    review_id: int | None = None
    edit_of: int | None = None  # this reviewer's earlier vote on the same comparison (a new vote edits it)
    about_case: str | None = None  # a typed question about this suite case's document (RAG, discharge)
    same_as: dict[str, str] = field(default_factory=dict)  # collapsed label -> label with the same text

    @property
    def shown_labels(self) -> list[str]:
        """Labels the reviewer reads, rates and can vote for (identical texts once)."""
        return [r["label"] for r in self.responses if r["label"] not in self.same_as]

    @property
    def identical(self) -> bool:
        return self.complete and all_identical([r["label"] for r in self.responses], self.same_as)

    def collapse(self) -> None:
        """Mark responses whose text repeats an earlier one (called once all are generated)."""
        self.same_as = identical_groups({r["label"]: r["text"] for r in self.responses})

    @property
    def complete(self) -> bool:
        return len(self.responses) == len(self.order) and all(r.get("text") is not None for r in self.responses)

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> Comparison | None:
        return cls(**state) if state else None


class Playground:
    """Candidates from an experiment config, suites from its suites_dir, reviews in the store."""

    def __init__(self, store_path: Path | str, candidates_config: Path | str,
                 accounts: ReviewerAccounts | None = None) -> None:
        self.store_path = Path(store_path)
        self.config_path = Path(candidates_config).resolve()
        self.config: ExperimentConfig = load_experiment(self.config_path)
        self.base_dir = self.config_path.parent
        self.suites_dir = self._suites_dir()
        self.accounts = accounts
        self.badges = BadgeScorer()
        self._candidates: dict[str, Candidate] = {}
        self._suites: dict[tuple[str, str], Suite] = {}
        self._speeds: dict[str, Speed] = {}
        self._lock = threading.RLock()
        with self.store() as store:
            ensure_review_schema(store)
            for name in accounts.usernames if accounts else []:
                register_reviewer(store, name, is_admin=accounts.is_admin(name) if accounts else False)

    def _suites_dir(self) -> Path | None:
        if not self.config.suites_dir:
            return None
        path = Path(self.config.suites_dir).expanduser()
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    @contextmanager
    def store(self) -> Iterator[Store]:
        """A connection per call: Gradio runs handlers on worker threads, and SQLite
        transactions must not interleave on one connection."""
        store = Store(self.store_path)
        try:
            yield store
        finally:
            store.close()

    # ---- candidates & suites ----------------------------------------------------------------
    @property
    def candidate_names(self) -> list[str]:
        return [c.name for c in self.config.candidates]

    def candidate(self, name: str) -> Candidate:
        """Built on first use; a ``train:`` candidate reuses its trained adapter (trains if none)."""
        with self._lock:
            if name not in self._candidates:
                spec = next((c for c in self.config.candidates if c.name == name), None)
                if spec is None:
                    raise ConfigError(f"unknown candidate {name!r} (known: {', '.join(self.candidate_names)})")
                from harness.factory import build_candidate

                with self.store() as store:
                    self._candidates[name] = build_candidate(spec, self.base_dir, store, log=log.info)
            return self._candidates[name]

    def suite_names(self) -> list[str]:
        configured = [parse_suite_ref(s.suite)[0] for s in self.config.suites]
        available = available_suites(self.suites_dir)
        return list(dict.fromkeys([n for n in configured if n in available] + available))

    def versions(self, suite: str) -> list[str]:
        return available_versions(suite, self.suites_dir)

    def default_version(self, suite: str) -> str | None:
        for selection in self.config.suites:
            name, version = parse_suite_ref(selection.suite)
            if name == suite and version:
                return version
        versions = self.versions(suite)
        return versions[-1] if versions else None

    def suite(self, name: str, version: str) -> Suite:
        with self._lock:
            key = (name, version)
            if key not in self._suites:
                self._suites[key] = load_suite(name, version, self.suites_dir)
            return self._suites[key]

    def case_choices(self, name: str, version: str) -> list[tuple[str, str]]:
        """(label, id) for the case picker: the suite's evaluation splits first."""
        suite = self.suite(name, version)
        evaluated = set(suite.spec.eval_splits)
        ordered = sorted(suite.cases, key=lambda c: c.split not in evaluated)  # stable: file order within
        return [(f"{c.id} · {c.topic or suite.spec.task} · {c.split}", c.id) for c in ordered]

    def case(self, suite: Suite, case_id: str) -> Case:
        for case in suite.cases:
            if case.id == case_id:
                return case
        raise ConfigError(f"suite {suite.key} has no case {case_id!r}")

    # ---- comparisons ------------------------------------------------------------------------
    def study_candidates(self) -> list[str]:
        """What a blind reviewer compares outside the queue: the first configured candidates (2-4).
        Reviewers never pick, so the page does not reveal the pool before the vote."""
        return self.candidate_names[:MAX_SHOWN]

    def start(self, *, reviewer: str, suite: str, version: str, candidates: list[str], blind: bool,
              case_id: str | None = None, free_text: str | None = None, consent: bool = False,
              assignment_id: int | None = None, about_case: str | None = None) -> Comparison:
        """Validate the request and fix the display order: blind, a balanced Latin-square row (reviewer
        index + case index) stored with the comparison (the same order on reload); the reviewer's
        earlier vote, if any, becomes ``edit_of``. A typed question on a suite with documents is asked
        about ``about_case``'s document, so retrieval searches that patient's record only."""
        names = list(dict.fromkeys(candidates))
        unknown = [n for n in names if n not in self.candidate_names]
        if unknown:
            raise ValueError(f"unknown candidates: {', '.join(unknown)}")
        if not 2 <= len(names) <= MAX_SHOWN:
            raise ValueError(f"pick 2 to {MAX_SHOWN} candidates to compare")
        loaded = self.suite(suite, version)
        if free_text is not None:
            text = free_text.strip()
            if not text:
                raise ValueError("type a prompt, or pick a suite case")
            about = self.case(loaded, about_case) if about_case else None
            about_case = about.id if about is not None and _has_document(about) else None
            case_key = FREE_PREFIX + _sha(f"{about_case or ''}\n{text}")[:16]
            source, split, case_index = "free", None, int(_sha(text)[:8], 16)
        else:
            if not case_id:
                raise ValueError("pick a case")
            case = self.case(loaded, case_id)
            case_key, source, split, text = case.id, "suite", case.split, None
            case_index = next(i for i, c in enumerate(loaded.cases) if c.id == case.id)
        order, seed, earlier = names, None, None
        who = clean_reviewer_name(reviewer)
        if who:
            key = comparison_key(suite, version, case_key, (self.candidate(n).fingerprint() for n in names))
            with self.store() as store:
                if blind:
                    order, seed = comparison_order(store, who, key, names, case_index)
                earlier = existing_vote(store, who, key)
        elif blind:
            raise ValueError("enter your name first: the blind order is kept per reviewer")
        return Comparison(reviewer=reviewer, suite=suite, version=version, suite_hash=loaded.hash, case_id=case_key,
                          source=source, split=split, order=order, blind=blind, order_seed=seed,
                          consent=consent, free_text=text, assignment_id=assignment_id, edit_of=earlier,
                          about_case=about_case)

    def _suite_and_case(self, comparison: Comparison) -> tuple[Suite, Case]:
        suite = self.suite(comparison.suite, comparison.version)
        if comparison.source == "suite":
            return suite, self.case(suite, comparison.case_id)
        if comparison.about_case:  # a question about one patient's document: the suite's own template
            base = self.case(suite, comparison.about_case)
            asked = base.model_copy(update={"id": comparison.case_id, "split": "test", "input": comparison.free_text,
                                            "question": comparison.free_text, "messages": None,
                                            "references": [], "reference": None})
            return Suite(suite.spec, [asked], suite.directory, suite.hash), asked
        # A free prompt is the user turn under the suite's system prompt and generation settings.
        prompt = suite.spec.prompt.model_copy(update={"template": "{{ input }}"})
        spec = suite.spec.model_copy(update={"prompt": prompt})
        case = Case(id=comparison.case_id, split="test", input=comparison.free_text)
        return Suite(spec, [case], suite.directory, suite.hash), case

    def conversation(self, comparison: Comparison) -> list[dict[str, str]]:
        """What the help-seeker / patient said (no system prompt): the prompt of an exported pair."""
        suite, case = self._suite_and_case(comparison)
        return build_messages(suite, case, system=None)

    def generate(self, comparison: Comparison, index: int) -> dict[str, Any]:
        """Generate (or fetch from the cache) the response shown under label ``LABELS[index]``."""
        name = comparison.order[index]
        candidate = self.candidate(name)
        suite, case = self._suite_and_case(comparison)
        started = time.perf_counter()
        persist = comparison.source == "suite" or comparison.consent
        with (self.store() if persist else _memory_store()) as store:
            keys, outputs = candidate.generate(store, suite, [case])
        output = outputs[case.id]
        setup = candidate.prompt_setup(suite)
        guard = output.meta.get("guard") if isinstance(output.meta.get("guard"), dict) else None
        settings = {
            "params": setup.params.model_dump(mode="json"),
            "system_sha256": _sha(setup.system)[:16] if setup.system else None,
            "modelfile_hash": setup.modelfile_hash,
            "generator_fp": candidate.generator_fp(),
            "backend": candidate.backend.identity,
            "finish_reason": output.meta.get("finish_reason"),
            "guard_action": (guard or {}).get("action"),  # stored with the vote
        }
        badges = self.badges.badges(suite, case, output)
        passages = _passages_received(candidate, suite, case, output)
        return {
            "label": LABELS[index],
            "candidate": name,
            "fingerprint": candidate.fingerprint(),
            "text": output.text,
            "cache_key": keys[case.id] if persist else None,
            "settings": settings,
            # Shown only after the vote (blind): automated signals and the guard's action prime reviewers.
            "badges_html": badges_html(badges, passages) + guard_note_html(guard),
            "guard_action": (guard or {}).get("action"),
            "seconds": round(time.perf_counter() - started, 2),
        }

    def speed(self, name: str) -> Speed:
        """Measured speed of a candidate's backend; seeded from the store's past generations."""
        candidate = self.candidate(name)
        identity = candidate.backend.identity
        with self._lock:
            if identity not in self._speeds:
                speed = Speed()
                with self.store() as store:
                    row = store.conn.execute(
                        "SELECT AVG(seconds), COUNT(*) FROM generations WHERE generator_fp IN (?, ?)"
                        " AND seconds IS NOT NULL",
                        (candidate.generator_fp(), candidate.generator_fp(guarded=False))).fetchone()
                if row and row[1]:
                    speed.typical_s = float(row[0])
                self._speeds[identity] = speed
            return self._speeds[identity]

    def generate_stream(self, comparison: Comparison, index: int) -> Iterator[Progress]:
        """:meth:`generate` with tokens streaming as they arrive (uncached, transformers backends);
        a cached response arrives at once. The last Progress carries the result or the error."""
        name = comparison.order[index]
        suite, _ = self._suite_and_case(comparison)
        max_tokens = self.candidate(name).prompt_setup(suite).params.max_new_tokens
        yield from stream_generation(lambda: self.generate(comparison, index), self.speed(name), max_tokens)

    def save(self, comparison: Comparison, *, vote: str | None, rubric: dict[str, dict[str, Any]],
             comment: str) -> int:
        """Store the judgement; returns the review id. ``rubric``: label -> scale -> 1-5 or "N/A" for the
        labels shown; a collapsed response takes the rating of the one it repeats. Refused with the
        missing scales named when any shown scale has neither a score nor N/A."""
        reviewer = clean_reviewer_name(comparison.reviewer)
        if reviewer is None:
            raise ValueError("enter your name before voting")
        if not comparison.complete:
            raise ValueError("wait until every response has been generated")
        if comparison.review_id is not None:
            raise ValueError("this comparison has already been voted on; load the next case")
        shown_rubric = {label: rubric.get(label, {}) for label in comparison.shown_labels}
        missing = missing_rubric(shown_rubric, RUBRIC, RUBRIC_TITLES)
        if missing:
            raise ValueError(f"rate every scale or mark it N/A; missing: {', '.join(missing)}")
        if comparison.identical:
            vote = "tie"  # nothing to choose between: recorded as identical, not a forced pick
        if not vote:
            raise ValueError("choose which response is better (or tie / all bad)")
        scores = {label: rubric_scores(values, RUBRIC) for label, values in shown_rubric.items()}
        shown = [
            ShownResponse(label=r["label"], candidate=r["candidate"], fingerprint=r["fingerprint"], text=r["text"],
                          cache_key=r["cache_key"], settings=r["settings"],
                          rubric=scores[comparison.same_as.get(r["label"], r["label"])],
                          same_as=comparison.same_as.get(r["label"]))
            for r in comparison.responses
        ]
        review = ReviewInput(
            reviewer=reviewer, suite=comparison.suite, version=comparison.version,
            suite_hash=comparison.suite_hash, case_id=comparison.case_id,
            conversation=self.conversation(comparison), shown=shown, vote=vote, source=comparison.source,
            split=comparison.split, consent=comparison.consent, blind=comparison.blind,
            order_seed=comparison.order_seed, comment=comment or "", assignment_id=comparison.assignment_id,
            shown_at=comparison.shown_at,
            context={"candidates_config": str(self.config_path), "experiment": self.config.name,
                     **({"about_case": comparison.about_case} if comparison.about_case else {})},
            edit_of=comparison.edit_of,
        )
        with self.store() as store:
            if self.accounts is None:
                register_reviewer(store, reviewer, source="name")
            return save_review(store, review)

    # ---- display helpers --------------------------------------------------------------------
    def case_text(self, suite_name: str, version: str, case_id: str, *, blind: bool = False) -> tuple[str, str, str]:
        """(heading markdown, what the model is asked, author labels/reference markdown); ``blind`` leaves
        the case's tags (risk tags among them) out of the heading, so they cannot prime a blind vote."""
        suite = self.suite(suite_name, version)
        case = self.case(suite, case_id)
        heading = f"**{case.id}** · task: {suite.spec.task} · split: {case.split}"
        if case.topic:
            heading += f" · topic: {case.topic}"
        if case.tags and not blind:
            heading += " · tags: " + ", ".join(case.tags)
        return heading, case_input_text(case), case_reference_markdown(case)


def _has_document(case: Case) -> bool:
    return bool(case.document or case.document_id)


def _passages_received(candidate: Candidate, suite: Suite, case: Case, output: Any) -> list[dict[str, Any]] | None:
    """The retrieved passages the model actually had in its prompt (None when none): a retriever's
    result that the prompt template did not include is not shown as if the model had read it."""
    passages = output.retrieved
    if not passages:
        return None
    spec = candidate.spec.retriever
    if spec is not None and spec.knowledge_base:
        return passages  # appended to the system turn (with_knowledge)
    turn = render_user_turn(suite, case, format_passages(passages))
    return passages if all(str(p.get("text", "")).strip() in turn for p in passages) else None


@contextmanager
def _memory_store() -> Iterator[Store]:
    store = Store(":memory:")
    try:
        yield store
    finally:
        store.close()
