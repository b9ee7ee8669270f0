"""Playground login: salted slow hashes, legacy entries refused, throttling and lockout (unit and over
real HTTP against the Gradio app), no secrets in errors, and `harness reviewers add`."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.errors import ConfigError
from harness.playground.accounts import ReviewerAccounts
from harness.playground.passwords import hash_password, verify_password
from harness.playground.throttle import LoginThrottle

REPO = Path(__file__).resolve().parents[2]
SECRET = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_hashes_are_salted_and_verify() -> None:
    first, second = hash_password(SECRET), hash_password(SECRET)
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert verify_password(SECRET, first) and verify_password(SECRET, second)
    assert not verify_password(SECRET + "!", first)


def test_legacy_sha256_entries_are_refused_with_the_fix(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"change-me-alice").hexdigest()
    path = tmp_path / "reviewers.yaml"
    path.write_text(f"reviewers:\n  - {{username: alice, password_sha256: {digest}}}\n")
    with pytest.raises(ConfigError) as caught:
        ReviewerAccounts.from_file(path)
    message = caught.value.render() if hasattr(caught.value, "render") else str(caught.value)
    assert "unsalted" in message and "harness reviewers add NAME --file" in message and "'alice'" in message
    assert digest not in message


@pytest.mark.parametrize("entry", [
    "{username: x, password_scrypt: 'hunter2-plaintext'}",
    "{username: x, password: hunter2-plaintext}",
    "{username: x, password_env: ENV, password_scrypt: 'hunter2-plaintext'}",
    "{username: 'hunter2 plaintext', password_env: X}",
])
def test_config_errors_never_echo_values(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "reviewers.yaml"
    path.write_text(f"reviewers:\n  - {entry}\n")
    with pytest.raises(ConfigError) as caught:
        ReviewerAccounts.from_file(path)
    assert "hunter2" not in str(caught.value) and "reviewers.yaml:2" in str(caught.value)


@pytest.mark.parametrize("value", [":hunter2-plaintext", "alice:", "alice hunter2-plaintext"])
def test_env_string_errors_never_echo_the_password(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("HARNESS_REVIEWERS", value)
    with pytest.raises(ConfigError) as caught:
        ReviewerAccounts.from_env()
    assert "hunter2" not in str(caught.value) and "entry 1" in str(caught.value)


def test_user_lockout_refuses_even_the_right_password_then_doubles() -> None:
    clock = Clock()
    accounts = ReviewerAccounts({"ana": hash_password(SECRET)}, throttle=LoginThrottle(clock=clock))
    for _ in range(5):
        assert not accounts.check("ana", "wrong")
    assert not accounts.check("ana", SECRET)  # locked
    clock.now += 61
    assert accounts.check("ana", SECRET)  # unlocked after 60 s; the success resets the count
    for _ in range(4):
        accounts.check("ana", "wrong")
    assert accounts.check("ana", SECRET)  # four failures after a reset do not lock
    throttle = LoginThrottle(clock=clock)
    for _ in range(10):
        throttle.failed("bob", "c")
    assert 119 <= throttle.locked("bob", "c") <= 120  # second lockout in a row: doubled


def test_client_lockout_covers_every_username() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock, user_failures=100)
    for i in range(20):
        throttle.failed(f"guess{i}", "10.0.0.9")
    assert throttle.locked("ana", "10.0.0.9") > 0 and throttle.locked("ana", "10.0.0.10") == 0
    clock.now += 901
    assert throttle.locked("ana", "10.0.0.9") == 0


def _login(url: str, user: str, password: str) -> int:
    return httpx.post(f"{url}login", data={"username": user, "password": password}, timeout=30).status_code


def test_gradio_login_is_throttled_over_http(serve: Any, tmp_path: Path, playground_config: Path) -> None:
    accounts = ReviewerAccounts({"ana": hash_password(SECRET), "lead": hash_password(SECRET + "2")}, {"lead"})
    _, url = serve(tmp_path / "store.sqlite", playground_config, accounts)
    assert _login(url, "ana", SECRET) == 200
    assert [_login(url, "ana", "wrong") for _ in range(5)] == [400] * 5
    assert _login(url, "ana", SECRET) == 400  # locked out with the right password
    assert _login(url, "lead", SECRET + "2") == 200  # other users unaffected
    for i in range(15):  # 5 failures above (the try while locked is not counted) + 15 = the 20th
        _login(url, f"guess{i}", "x")
    assert _login(url, "lead", SECRET + "2") == 400  # this address is now locked for every username
    assert accounts.throttle.locked("lead", "127.0.0.1") > 800


def _cli(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", "from harness.cli import main; main()", *args], input=stdin,
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


def test_reviewers_add_writes_a_salted_entry(tmp_path: Path) -> None:
    path = tmp_path / "team" / "reviewers.yaml"
    done = _cli("reviewers", "add", "lead", "--file", str(path), "--role", "admin", stdin=SECRET + "\n")
    assert done.returncode == 0, done.stderr
    _cli("reviewers", "add", "ana", "--file", str(path), stdin="another-pass\n")
    text = path.read_text()
    assert SECRET not in text and "another-pass" not in text and text.count("password_scrypt") == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    accounts = ReviewerAccounts.from_file(path)
    assert accounts.check("lead", SECRET) and accounts.is_admin("lead") and accounts.check("ana", "another-pass")
    assert not accounts.is_admin("ana")


def test_reviewers_add_replaces_a_legacy_entry_and_refuses_short_passwords(tmp_path: Path) -> None:
    path = tmp_path / "reviewers.yaml"
    path.write_text(f"reviewers:\n  - {{username: ana, password_sha256: {hashlib.sha256(b'x').hexdigest()}}}\n")
    short = _cli("reviewers", "add", "ana", "--file", str(path), stdin="short\n")
    assert short.returncode == 2 and "at least 8" in short.stderr and "short" not in short.stderr.split("at least")[0]
    assert _cli("reviewers", "add", "ana", "--file", str(path), stdin=SECRET + "\n").returncode == 0
    assert ReviewerAccounts.from_file(path).check("ana", SECRET)
    bad = _cli("reviewers", "add", "bad name!", "--file", str(path), stdin=SECRET + "\n")
    assert bad.returncode == 2 and "username" in bad.stderr and "Traceback" not in bad.stderr
