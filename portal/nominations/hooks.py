"""What higher areas do when a nomination moves, told without nominations importing them.

The review area (above nominations) must hear when a nomination under review is returned
for changes, resubmitted or withdrawn: its reviewers are told, and the dossier leaves
their queue or is marked "changed since your review". It registers a hook here when it
is imported; the workflow calls every hook after each move of the lifecycle table, in
the same transaction, with the nomination (already in its new state), the move's name
and the actor (None: the portal itself).
"""

from __future__ import annotations

from collections.abc import Callable

from portal.accounts.models import User
from portal.nominations.models import Nomination

StateHook = Callable[[Nomination, str, User | None], None]

STATE_HOOKS: list[StateHook] = []


def register_state_hook(hook: StateHook) -> None:
    """Add a hook (once, however often the registering area is imported)."""
    if hook not in STATE_HOOKS:
        STATE_HOOKS.append(hook)


def moved(nomination: Nomination, move: str, actor: User | None) -> None:
    for hook in STATE_HOOKS:
        hook(nomination, move, actor)
