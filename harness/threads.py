"""CPU thread settings that behave on shared runners.

- ``OMP_WAIT_POLICY=PASSIVE`` by default (set by ``import harness``, before torch loads; OpenMP reads
  it once). With the default policy an idle OpenMP thread spins before it sleeps; on a loaded CI runner
  torch's threads then burn their time slices spinning while the thread holding the work waits for a
  core (issue 21 profiled 70% of a 2-thread decode's time spinning). ``bench/bench_threads.py``: batch-16
  decode on 2 cores, default vs PASSIVE: 1.7 vs 12.2 tok/s at load 14-19 (7.2x), 39.8 vs 68.2 at load 3.6 (1.7x).
- torch's intra-op threads = the CPUs this process may run on (``os.sched_getaffinity``, capped by a
  cgroup v2 CPU quota), not the machine's core count: a container limited to 2 of 64 CPUs should not
  start 32 threads. ``HARNESS_THREADS=N`` sets the count; an explicit ``OMP_NUM_THREADS`` is left alone.

A value the user set always wins.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

RUNTIME_DEFAULTS: dict[str, str] = {"OMP_WAIT_POLICY": "PASSIVE"}
_CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
_configured = False


def apply_runtime_defaults() -> None:
    """Environment defaults for the native thread pools; call before torch is imported."""
    for name, value in RUNTIME_DEFAULTS.items():
        os.environ.setdefault(name, value)


def _cgroup_quota(path: Path = _CGROUP_CPU_MAX) -> int | None:
    """CPUs allowed by a cgroup v2 quota ("200000 100000" -> 2), None when unlimited or unknown."""
    try:
        quota, period = path.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return max(1, math.ceil(int(quota) / int(period)))
    except (ValueError, ZeroDivisionError):
        return None


def available_cpus() -> int:
    """CPUs this process can actually use: its affinity mask, capped by the cgroup CPU quota."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(count, quota) if quota else count)


def torch_thread_count() -> int | None:
    """The intra-op thread count the harness sets, or None to leave torch's own choice."""
    explicit = os.environ.get("HARNESS_THREADS", "").strip()
    if explicit:
        try:
            return max(1, int(explicit))
        except ValueError:
            raise ValueError(f"HARNESS_THREADS must be a whole number of threads, got {explicit!r}") from None
    if os.environ.get("OMP_NUM_THREADS"):
        return None
    return available_cpus()


def configure_torch(torch: Any) -> None:
    """Set torch's intra-op threads once per process (model loaders call this)."""
    global _configured
    if _configured:
        return
    _configured = True
    count = torch_thread_count()
    if count is not None and torch.get_num_threads() != count:
        torch.set_num_threads(count)
