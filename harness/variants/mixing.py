"""Curriculum mixing: how many examples a phase draws from each built dataset, and the draw itself."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from harness.variants.config import Phase

if TYPE_CHECKING:
    from harness.variants.data import BuiltDataset


# ----------------------------------------------------------------------------- mixing


def phase_size(phase: Phase, built: dict[str, BuiltDataset], examples_per_step: int) -> int:
    """Examples a phase draws: max_steps x batch, else epochs x (scarcest source used once at its ratio)."""
    if phase.max_steps is not None:
        return phase.max_steps * examples_per_step
    base = phase.num_examples or min(len(built[n].records) / ratio for n, ratio in phase.datasets.items())
    return max(examples_per_step, round(base * (phase.epochs or 1.0)))


def allocate(ratios: dict[str, float], total: int) -> dict[str, int]:
    """Largest-remainder split of ``total`` by ratio (every listed source gets at least one)."""
    raw = {n: r * total for n, r in ratios.items()}
    counts = {n: int(v) for n, v in raw.items()}
    for name in sorted(raw, key=lambda n: (raw[n] - counts[n], n), reverse=True)[: total - sum(counts.values())]:
        counts[name] += 1
    for name in counts:
        counts[name] = max(counts[name], 1)
    return counts


def _draw(records: Sequence[dict[str, Any]], count: int, rng: random.Random) -> list[dict[str, Any]]:
    """``count`` records without replacement while possible, then further shuffled passes."""
    out: list[dict[str, Any]] = []
    while len(out) < count:
        batch = list(records)
        rng.shuffle(batch)
        out += batch[: count - len(out)]
    return out


def mix_phase(phase: Phase, built: dict[str, BuiltDataset], total: int,
              seed: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """A seeded mixture of ``total`` records at the phase's ratios; returns it and the counts drawn."""
    rng = random.Random(f"{seed}:{phase.name}")
    counts = allocate(phase.datasets, total)
    mixed: list[dict[str, Any]] = []
    for name in phase.datasets:
        mixed += _draw(built[name].records, counts[name], rng)
    rng.shuffle(mixed)
    return mixed, counts


def phase_eval_records(phase: Phase, built: dict[str, BuiltDataset], limit: int, seed: int) -> list[dict[str, Any]]:
    pool = [r for name in phase.datasets for r in built[name].eval_records]
    if len(pool) > limit:
        pool = random.Random(f"{seed}:{phase.name}:eval").sample(pool, limit)
    return pool
