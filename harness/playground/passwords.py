"""Salted, slow password hashes for reviewer accounts (scrypt from the standard library).

An entry reads ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``: the cost parameters travel with the
hash, so they can be raised later without breaking old entries. At n=2**14, r=8 one check takes
tens of milliseconds and 16 MiB, which turns an offline guess at a leaked file from billions per
second (plain SHA-256) into a few dozen per core.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32
MIN_PASSWORD_LENGTH = 8


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES,
                          maxmem=256 * 1024 * 1024)


def hash_password(password: str) -> str:
    """A new salted scrypt entry for ``password``."""
    salt = os.urandom(SALT_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(_scrypt(password, salt, N, R, P))}"


def parse_hash(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    """(n, r, p, salt, key); ValueError naming the problem, never the value."""
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise ValueError(f"expected '{SCHEME}$n$r$p$salt$hash' (create it with `harness reviewers add`)")
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, key = base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
    except ValueError:
        raise ValueError("malformed scrypt parameters, salt or hash") from None
    if n < 2**14 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16 or len(salt) < 16 or len(key) < 16:
        raise ValueError("scrypt parameters below the minimum (n >= 2**14, salt >= 16 bytes)")
    return n, r, p, salt, key


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time comparison of ``password`` against a stored entry."""
    n, r, p, salt, key = parse_hash(encoded)
    return hmac.compare_digest(_scrypt(password, salt, n, r, p)[: len(key)], key)


# Checked for unknown usernames, so a miss costs as long as a wrong password.
DUMMY_HASH = hash_password(os.urandom(16).hex())
