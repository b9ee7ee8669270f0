"""Admin-only data (the reviewer list, queue progress, results, exports) never reaches a non-admin.

Checks what every event handler *returns* for a non-admin session, not what is visible: a hidden
tab's components still receive values in the browser, and any event can be called directly."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from harness.playground.accounts import ReviewerAccounts
from harness.playground.app import build_app
from harness.playground.passwords import hash_password
from harness.reviews import assign_cases, ensure_review_schema
from harness.store import Store

ADMIN_ONLY = {"q-reviewers", "queue-progress", "results", "assign-status", "export-status", "export-file"}
OTHERS = ("bob-the-reviewer", "carol-the-reviewer")


def _call(block_fn: Any, username: str) -> list[Any]:
    """Run an event handler the way Gradio would: component values in, gr.Request injected."""
    fn = block_fn.fn
    hints = typing.get_type_hints(fn)
    values = iter([getattr(component, "value", None) for component in block_fn.inputs])
    args: list[Any] = []
    for name, param in inspect.signature(fn).parameters.items():
        if hints.get(name) is gr.Request:
            args.append(gr.Request(username=username))
        elif param.kind is inspect.Parameter.VAR_POSITIONAL:
            args.extend(values)
        else:
            args.append(next(values, None))
    result = fn(*args)
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _admin_outputs(demo: Any, username: str) -> dict[str, str]:
    """elem_id -> what every event sends to that admin-only component, for this user."""
    sent: dict[str, str] = {}
    for block_fn in demo.fns.values():
        targets = [getattr(o, "elem_id", None) for o in block_fn.outputs]
        if not ADMIN_ONLY & set(targets) or inspect.isgeneratorfunction(block_fn.fn):
            continue
        for elem_id, value in zip(targets, _call(block_fn, username), strict=False):
            if elem_id in ADMIN_ONLY:
                sent[f"{block_fn.name}->{elem_id}"] = sent.get(elem_id, "") + repr(value)
    return sent


@pytest.fixture
def demo(tmp_path: Path, playground_config: Path) -> Any:
    store_path = tmp_path / "store.sqlite"
    accounts = ReviewerAccounts({name: hash_password("password-" + name) for name in ("lead", "ana", *OTHERS)},
                                {"lead"})
    app = build_app(store_path, playground_config, accounts)
    with Store(store_path) as store:
        ensure_review_schema(store)
        assign_cases(store, ["ana", *OTHERS], "mini", "v1", "h", ["m-1", "m-2"], ["base", "terse"], overlap=2)
    return app


def test_non_admins_receive_no_admin_data_from_any_event(demo: Any) -> None:
    sent = _admin_outputs(demo, "ana")
    assert sent, "no event writes to an admin-only component: the test would check nothing"
    leaks = {target: value for target, value in sent.items() if any(name in value for name in OTHERS)
             or "| Reviewer |" in value}
    assert not leaks, leaks


def test_admins_do_receive_it(demo: Any) -> None:
    sent = " ".join(_admin_outputs(demo, "lead").values())
    assert all(name in sent for name in OTHERS) and "| Reviewer |" in sent


def _sent_to(demo: Any, username: str, elem_ids: set[str]) -> str:
    """Everything the non-generator events send to the given components, for this user."""
    sent = []
    for block_fn in demo.fns.values():
        targets = [getattr(o, "elem_id", None) for o in block_fn.outputs]
        if not elem_ids & set(targets) or inspect.isgeneratorfunction(block_fn.fn):
            continue
        sent += [repr(v) for t, v in zip(targets, _call(block_fn, username), strict=False) if t in elem_ids]
    return " ".join(sent)


def test_the_candidate_pool_reaches_admins_only(demo: Any) -> None:
    pools = {"candidates", "q-candidates"}
    assert not any(name in _sent_to(demo, "ana", pools) for name in ("base", "terse"))  # blind reviewers
    assert all(name in _sent_to(demo, "lead", pools) for name in ("base", "terse"))
    config = repr(demo.get_config_file())
    assert "terse" not in config  # not in the page's built-in config either
