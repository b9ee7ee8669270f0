"""`pytest suites/ -k therapy` evaluates the therapy suite only: the gate plugin runs the suites of the
tests left after selection, not every gated suite."""

from __future__ import annotations

from types import SimpleNamespace

from harness.gating import gate_targets


def _plugin():  # type: ignore[no-untyped-def]
    import harness.pytest_plugin as plugin

    return plugin


def _item(target):  # type: ignore[no-untyped-def]
    return SimpleNamespace(callspec=SimpleNamespace(params={"gate_target": target}))


def test_only_the_selected_tests_suites_are_evaluated() -> None:
    plugin = _plugin()
    targets = gate_targets()
    therapy = [t for t in targets if t.suite.name == "therapy"]
    assert therapy and len({t.suite.key for t in targets}) > 1
    chosen = plugin._selected_suites([_item(t) for t in therapy[:1]], targets)
    assert [s.key for s in chosen] == [therapy[0].suite.key]
    everything = plugin._selected_suites([_item(t) for t in targets], targets)
    assert [s.key for s in everything] == list(dict.fromkeys(t.suite.key for t in targets))
    not_a_gate = SimpleNamespace()  # e.g. another test collected alongside
    assert plugin._selected_suites([not_a_gate], targets) == []
