"""Fingerprints and the generation cache, on the real embedded model."""

from pathlib import Path

from harness.candidate import Candidate, CandidateSpec
from harness.guard import SafetyGuardSpec
from harness.store import Store
from harness.suite import load_suite


def test_fingerprint_tracks_what_changes_outputs() -> None:
    base = Candidate(CandidateSpec(name="a"))
    renamed = Candidate(CandidateSpec(name="b"))
    other_prompt = Candidate(CandidateSpec(name="a", system="Be brief."))
    other_params = Candidate(CandidateSpec(name="a", params={"max_new_tokens": 7}))
    other_model = Candidate(CandidateSpec(name="a", model="/some/other/model"))
    assert base.fingerprint() == renamed.fingerprint()
    assert len({base.fingerprint(), other_prompt.fingerprint(), other_params.fingerprint(),
                other_model.fingerprint()}) == 4
    # The generator (weights) is the same when only the prompt differs.
    assert base.generator_fp() == other_prompt.generator_fp()
    assert base.generator_fp() != other_model.generator_fp()


def test_modelfile_sets_system_params_and_fingerprint(fixture_suites: Path) -> None:
    repo = Path(__file__).resolve().parents[1]
    plain = Candidate(CandidateSpec(name="a"))
    with_mf = Candidate(CandidateSpec(name="a", modelfile=str(repo / "configs/modelfiles/therapy-companion.Modelfile")))
    suite = load_suite("mini", "v1", fixture_suites)
    setup = with_mf.prompt_setup(suite)
    assert setup.system and "988" in setup.system
    assert setup.params.temperature == 0.0
    assert plain.prompt_setup(suite).system == suite.spec.prompt.system
    assert plain.fingerprint() != with_mf.fingerprint()


def test_cache_hit_and_miss_by_fingerprint(store: Store, fixture_suites: Path) -> None:
    suite = load_suite("mini", "v1", fixture_suites)
    cases = suite.select()[:2]
    short = CandidateSpec(name="a", params={"max_new_tokens": 8})
    candidate = Candidate(short)
    _, first = candidate.generate(store, suite, cases)
    assert store.count_generations() == 2
    # Same fingerprint (even renamed): nothing new is generated, outputs identical.
    _, again = Candidate(short.model_copy(update={"name": "renamed"})).generate(store, suite, cases)
    assert store.count_generations() == 2
    assert {k: v.text for k, v in again.items()} == {k: v.text for k, v in first.items()}
    # A changed prompt is a different candidate: both cases miss the cache.
    Candidate(short.model_copy(update={"system": "Answer in French."})).generate(store, suite, cases)
    assert store.count_generations() == 4


def test_guarded_twin_reuses_raw_generations(store: Store, fixture_suites: Path) -> None:
    suite = load_suite("mini", "v1", fixture_suites)
    cases = suite.select()[:2]
    spec = CandidateSpec(name="a", params={"max_new_tokens": 8})
    Candidate(spec).generate(store, suite, cases)
    guarded = Candidate(spec.model_copy(update={"safety_guard": SafetyGuardSpec()}))
    calls = {"n": 0}
    real = guarded.backend.generate

    def counting(requests):  # type: ignore[no-untyped-def]
        calls["n"] += len(requests)
        return real(requests)

    guarded.backend.generate = counting  # type: ignore[method-assign]
    keys, outputs = guarded.generate(store, suite, cases)
    assert calls["n"] == 0  # derived from the cached raw generations
    # What the guard did travels with each output to the scoring step (delivered vs the model's own words).
    assert all(o.meta["guard"]["action"] in ("none", "prefixed", "replaced") for o in outputs.values())
    assert all("reason" in o.meta["guard"] for o in outputs.values())
    assert store.count_generations() == 4  # two raw + two guarded rows
    assert set(keys.values()).isdisjoint(Candidate(spec).generate(store, suite, cases)[0].values())
