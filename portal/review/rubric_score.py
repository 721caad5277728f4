"""A review's score: the weighted mean of its criteria, each scaled to 0-1, re-weighted
over the criteria actually scored.

    score = sum_c w_c * (s_c - min_c) / (max_c - min_c)  /  sum_c w_c     (c: scored criteria)

A criterion left blank does not count as zero: the weights of the others carry the score.
No criterion scored: no score (None). This module is pure (no database), so the ranking
and the tests compute exactly what the workspace shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """What the score needs of a criterion."""

    id: int
    scale_min: int
    scale_max: int
    weight: float


def scaled(value: int, scale: Scale) -> float:
    return (value - scale.scale_min) / (scale.scale_max - scale.scale_min)


def weighted_score(scales: Iterable[Scale], scores: Mapping[str, int]) -> float | None:
    total_weight = 0.0
    total = 0.0
    for c in scales:
        value = scores.get(str(c.id))
        if value is None:
            continue
        total += c.weight * scaled(value, c)
        total_weight += c.weight
    if total_weight == 0:
        return None
    return total / total_weight
