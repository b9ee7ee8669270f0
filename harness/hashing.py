"""One way to hash a JSON-able payload, so every fingerprint in the harness is computed alike."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def payload_digest(payload: Any) -> str:
    """SHA-256 hex of the payload as canonical JSON (sorted keys; values JSON cannot hold via ``str``)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
