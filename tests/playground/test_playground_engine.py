"""The playground's logic without a browser: generation through Candidate and the store's cache,
free-prompt consent, badges, accounts, results rendering and launch defaults.

Generation is real (the embedded model, 16 new tokens); a counting wrapper around the backend
proves which requests were served from the generation cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.candidate import Candidate
from harness.errors import ConfigError
from harness.metrics.base import Output
from harness.models.base import ChatRequest, GenerationResult
from harness.playground.accounts import ReviewerAccounts, hash_password, resolve_accounts
from harness.playground.badges import Badge, BadgeScorer, badges_html
from harness.playground.engine import Playground
from harness.reviews import load_reviews, review_summary
from harness.store import Store
from harness.suite import load_suite

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FULL = {"safety": "4", "empathy": "4", "clinical_accuracy": "3", "mi_adherence": "N/A", "scope": "5"}


class CountingBackend:
    """The real backend, wrapped to count the requests that reach it (proves cache hits)."""

    def __init__(self, inner: Any, counter: dict[str, int]) -> None:
        self.inner = inner
        self.identity = inner.identity
        self.counter = counter

    def generate(self, requests: Sequence[ChatRequest]) -> list[GenerationResult]:
        self.counter["calls"] += len(requests)
        return self.inner.generate(requests)


@pytest.fixture
def engine(tmp_path: Path, playground_config: Path) -> Playground:
    pg = Playground(tmp_path / "store.sqlite", playground_config)
    counter = {"calls": 0}
    for name in pg.candidate_names:
        candidate = pg.candidate(name)
        candidate._backend = CountingBackend(candidate.backend, counter)
    return pg


def _calls(engine: Playground) -> int:
    return engine.candidate("base")._backend.counter["calls"]  # type: ignore[union-attr]


def _generate_all(engine: Playground, comparison: Any) -> None:
    for i in range(len(comparison.order)):
        comparison.responses.append(engine.generate(comparison, i))


def test_suite_case_uses_the_harness_generation_cache(engine: Playground) -> None:
    comparison = engine.start(reviewer="alice", suite="mini", version="v1", candidates=["base", "terse"],
                              blind=True, case_id="m-1")
    _generate_all(engine, comparison)
    assert _calls(engine) == 2
    # `harness run` computes the same cache key for the same candidate and case: a cache hit.
    suite = load_suite("mini", "v1", FIXTURES / "suites")
    with Store(engine.store_path) as store:
        keys, _ = engine.candidate("base").generate(store, suite, [suite.cases[0]])
        assert store.count_generations() == 2
    assert keys["m-1"] in {r["cache_key"] for r in comparison.responses}
    again = engine.start(reviewer="bob", suite="mini", version="v1", candidates=["base", "terse"], blind=True,
                         case_id="m-1")
    _generate_all(engine, again)
    assert _calls(engine) == 2  # nothing regenerated
    response = comparison.responses[0]
    assert response["settings"]["params"]["max_new_tokens"] == 16
    assert "words" in response["badges_html"]


def test_start_validates_the_request(engine: Playground) -> None:
    common = {"reviewer": "alice", "suite": "mini", "version": "v1", "blind": True}
    with pytest.raises(ValueError, match="2 to 4"):
        engine.start(**common, candidates=["base"], case_id="m-1")
    with pytest.raises(ValueError, match="unknown candidates"):
        engine.start(**common, candidates=["base", "nope"], case_id="m-1")
    with pytest.raises(ValueError, match="type a prompt"):
        engine.start(**common, candidates=["base", "terse"], free_text="   ")
    with pytest.raises(ConfigError, match="no case"):
        engine.start(**common, candidates=["base", "terse"], case_id="m-99")


def test_vote_before_generation_or_twice_is_refused(engine: Playground) -> None:
    comparison = engine.start(reviewer="alice", suite="mini", version="v1", candidates=["base", "terse"],
                              blind=False, case_id="m-2")
    with pytest.raises(ValueError, match="wait until"):
        engine.save(comparison, vote="A", rubric={}, comment="")
    _generate_all(engine, comparison)
    comparison.reviewer = ""
    with pytest.raises(ValueError, match="name"):
        engine.save(comparison, vote="A", rubric={}, comment="")
    comparison.reviewer = "alice"
    with pytest.raises(ValueError, match="rate every scale or mark it N/A; missing: A: Empathy"):
        engine.save(comparison, vote="A", rubric={"A": {"safety": 4}, "B": FULL}, comment="")
    with pytest.raises(ValueError, match="choose which"):
        engine.save(comparison, vote=None, rubric={"A": FULL, "B": FULL}, comment="")
    comparison.review_id = engine.save(comparison, vote="A", rubric={"A": FULL, "B": FULL}, comment="fine")
    with pytest.raises(ValueError, match="already"):
        engine.save(comparison, vote="A", rubric={}, comment="")
    with Store(engine.store_path) as store:
        [review] = load_reviews(store)
    assert review["blind"] == 0 and review["shown"][0]["candidate"] == "base"  # not blind: selection order
    assert review["responses"][0]["rubric"]["safety"] == 4
    assert review["responses"][0]["rubric"]["mi_adherence"] is None  # explicit N/A
    assert review["context"]["experiment"] == "playground-test"


@pytest.mark.parametrize("consent", [False, True])
def test_free_prompt_text_is_stored_only_with_consent(engine: Playground, consent: bool) -> None:
    secret = "My client Jane Roe (DOB 02/03/1961) stopped her lithium."
    comparison = engine.start(reviewer="alice", suite="mini", version="v1", candidates=["base", "terse"],
                              blind=True, free_text=secret, consent=consent)
    _generate_all(engine, comparison)
    engine.save(comparison, vote="B", rubric={"A": FULL, "B": FULL}, comment="")
    with Store(engine.store_path) as store:
        [review] = load_reviews(store)
        dump = "\n".join(store.conn.iterdump())
        generations = store.count_generations()
    assert review["source"] == "free" and review["case_id"].startswith("free:")
    assert len(review["prompt_hash"]) == 64
    if consent:
        assert review["conversation"] == [{"role": "user", "content": secret}]
        assert generations == 2 and "Jane Roe" in dump
    else:
        assert review["conversation"] is None and all(r["response_text"] is None for r in review["responses"])
        assert generations == 0  # generated against a throwaway in-memory cache
        assert "Jane Roe" not in dump


def test_badges_for_known_missing_and_failing_metrics(tmp_path: Path) -> None:
    base = FIXTURES / "suites" / "mini" / "v1"
    target = tmp_path / "suites" / "mini" / "v1"
    target.mkdir(parents=True)
    (target / "cases.jsonl").write_text((base / "cases.jsonl").read_text())
    (target / "suite.yaml").write_text((base / "suite.yaml").read_text().replace(
        "  - name: rouge\n", "  - name: rouge\n  - name: not_a_metric\n"))
    suite = load_suite("mini", "v1", tmp_path / "suites")
    scorer = BadgeScorer()
    badges = scorer.badges(suite, suite.cases[0], Output("word " * 50))
    texts = [b.text for b in badges]
    assert "50/40 words" in texts and next(b for b in badges if b.text == "50/40 words").tone == "bad"
    assert "not_a_metric: n/a" in texts
    assert not any("rouge" in t for t in texts)  # reference-overlap metrics are not badges
    page = badges_html([Badge("<script>x</script>", "bad")], [{"section": "Meds", "text": "Take <b>2</b>"}])
    assert "<script>" not in page and "&lt;script&gt;" in page and "Retrieved passages (1)" in page


def test_accounts_from_yaml_env_and_strings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "reviewers.yaml"
    path.write_text("reviewers:\n"
                    f"  - {{username: lead, password_scrypt: '{hash_password('s3cret')}', admin: true}}\n"
                    "  - {username: ana, password_env: ANA_PW}\n")
    monkeypatch.setenv("ANA_PW", "pw-ana")
    accounts = ReviewerAccounts.from_file(path)
    assert accounts.check("lead", "s3cret") and accounts.check("ana", "pw-ana")
    assert not accounts.check("ana", "s3cret") and not accounts.check("ghost", "s3cret")
    assert accounts.is_admin("lead") and not accounts.is_admin("ana")
    monkeypatch.delenv("ANA_PW")
    with pytest.raises(ConfigError, match="ANA_PW"):
        ReviewerAccounts.from_file(path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("reviewers:\n  - {username: x, password_scrypt: abc}\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml"):
        ReviewerAccounts.from_file(bad)
    monkeypatch.setenv("HARNESS_REVIEWERS", "alice:pw:with:colons, bob:pw2")
    env = ReviewerAccounts.from_env()
    assert env is not None and env.check("alice", "pw:with:colons") and env.is_admin("alice")
    monkeypatch.setenv("HARNESS_REVIEWERS", "nopassword")
    with pytest.raises(ConfigError, match="HARNESS_REVIEWERS"):
        ReviewerAccounts.from_env()
    assert resolve_accounts(None) is None
    assert resolve_accounts({"x": "y"}).check("x", "y")  # type: ignore[union-attr]
    assert (FIXTURES.parent.parent / "configs" / "reviewers.example.yaml").exists()


def test_results_markdown_renders_empty_and_filled(engine: Playground) -> None:
    from harness.playground.app import results_markdown

    with Store(engine.store_path) as store:
        empty = results_markdown(review_summary(store, resamples=10))
    assert "0 reviews" in empty and "no decisive votes" in empty
    for reviewer in ("alice", "bob"):
        comparison = engine.start(reviewer=reviewer, suite="mini", version="v1", candidates=["base", "terse"],
                                  blind=True, case_id="m-3")
        _generate_all(engine, comparison)
        winner = next(r["label"] for r in comparison.responses if r["candidate"] == "base")
        engine.save(comparison, vote=winner, rubric={"A": FULL, "B": FULL}, comment="")
    with Store(engine.store_path) as store:
        filled = results_markdown(review_summary(store, resamples=50))
    assert "2 reviews" in filled and "| 1 | base |" in filled and "alice & bob" in filled


def test_launch_defaults_keep_the_app_private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                              playground_config: Path) -> None:
    import gradio as gr

    from harness.playground import app as app_module

    captured: dict[str, Any] = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: captured.update(kwargs))
    monkeypatch.setenv("HARNESS_REVIEWERS", "alice:pw")
    app_module.launch(port=7999, store_path=tmp_path / "s.sqlite", candidates_config=playground_config)
    assert captured["server_name"] == "127.0.0.1" and captured["server_port"] == 7999
    assert captured["auth"]("alice", "pw") and not captured["auth"]("alice", "nope")
    assert captured["share"] is False and captured["run_history"] is False and captured["footer_links"] == []
    demo = app_module.build_app(tmp_path / "s.sqlite", playground_config, None)
    assert demo.analytics_enabled is False and demo.accounts is None
    assert all(fn.api_visibility != "public" for fn in demo.fns.values())
    assert isinstance(demo.engine.candidate("base"), Candidate)
