"""What higher areas keep of a cycle, told to cycles without cycles importing them.

Cycles sit below nominations (and the selection areas to come). Some rules of a cycle
depend on what uses it: a specialty nominations chose cannot be removed, a document
requirement with uploads cannot be deleted, the stored completeness of drafts follows the
document rules, and the list of cycles shows how many nominations each has. The areas
that use cycles register these hooks when they are imported (portal.nominations does in
its package module); cycles only asks them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from portal.cycles.models import Cycle

T = TypeVar("T")

@dataclass
class Hooks:
    # () -> {cycle id: nominations}: the counts on the list of cycles
    counts: list[Callable[[], dict[int, int]]] = field(default_factory=list)
    # specialty id -> True when something still points at it
    specialty_used: list[Callable[[int], bool]] = field(default_factory=list)
    # requirement id -> True when files were uploaded for it
    requirement_used: list[Callable[[int], bool]] = field(default_factory=list)
    # a cycle's document rules changed (flushed): derived data follows
    rules_changed: list[Callable[[Cycle], None]] = field(default_factory=list)


HOOKS = Hooks()


def register(*, counts: Callable[[], dict[int, int]] | None = None,
             specialty_used: Callable[[int], bool] | None = None,
             requirement_used: Callable[[int], bool] | None = None,
             rules_changed: Callable[[Cycle], None] | None = None) -> None:
    """Add an area's hooks (once each, however often the area is imported)."""
    _add(HOOKS.counts, counts)
    _add(HOOKS.specialty_used, specialty_used)
    _add(HOOKS.requirement_used, requirement_used)
    _add(HOOKS.rules_changed, rules_changed)


def _add(hooks: list[T], hook: T | None) -> None:
    if hook is not None and hook not in hooks:
        hooks.append(hook)


def counts() -> dict[int, int]:
    total: dict[int, int] = {}
    for hook in HOOKS.counts:
        for cycle_id, n in hook().items():
            total[cycle_id] = total.get(cycle_id, 0) + n
    return total


def specialty_used(specialty_id: int) -> bool:
    return any(hook(specialty_id) for hook in HOOKS.specialty_used)


def requirement_used(requirement_id: int) -> bool:
    return any(hook(requirement_id) for hook in HOOKS.requirement_used)


def rules_changed(cycle: Cycle) -> None:
    for hook in HOOKS.rules_changed:
        hook(cycle)
