"""Lifecycles as one table of moves each: state -> allowed next states, and who may move.

A `Lifecycle` is written once per kind of record (a nomination, an event registration,
later an offer and a placement) as a list of `Move`s. Every set of states and every
predicate the portal uses (which nominations count against a limit, which may be
returned, whether a button shows) is derived from that table, and every service that
changes a state asks `check()` first, so a move that is not in the table is refused
whoever asks. Services that change a state in the database with a conditional UPDATE use
`sources(move)` in its WHERE clause, so the database applies the same table.

This module is a leaf: it knows nothing of nominations or events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal.errors import Conflict, Refused

# Who makes a move. Areas map a person to these for one record (a nominator of the
# owning institution acts as INSTITUTION on that nomination, and as nobody on others).
STAFF = "staff"
INSTITUTION = "institution"
ALUMNUS = "alumnus"
GUEST = "guest"
CANDIDATE = "candidate"
REVIEWER = "reviewer"
SYSTEM = "system"  # the portal itself: jobs, the tick, a move caused by another move


@dataclass(frozen=True)
class Move:
    name: str  # what the move is called in history and audit ("submit", "withdraw")
    sources: frozenset[str]  # states it starts from
    target: str
    actors: frozenset[str]  # who may make it

    def __repr__(self) -> str:
        return f"<Move {self.name}: {sorted(self.sources)} -> {self.target}>"


def move(name: str, sources: Iterable[str], target: str, *actors: str) -> Move:
    return Move(name, frozenset(sources), target, frozenset(actors))


class Lifecycle:
    """The table of one record kind. `states` lists every state in display order."""

    def __init__(self, name: str, states: Iterable[str], moves: Iterable[Move]) -> None:
        self.name = name
        self.states: tuple[str, ...] = tuple(states)
        self.moves: tuple[Move, ...] = tuple(moves)
        self._by_name: dict[str, list[Move]] = {}
        for m in self.moves:
            unknown = (m.sources | {m.target}) - set(self.states)
            if unknown:
                raise ValueError(f"{name}: move {m.name} names unknown states {unknown}")
            self._by_name.setdefault(m.name, []).append(m)

    # -- derived sets ---------------------------------------------------------------------

    def move_names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def sources(self, name: str, actor: str | None = None) -> frozenset[str]:
        """States from which move `name` may start (for `actor`, if given)."""
        return frozenset().union(*(
            m.sources for m in self._by_name.get(name, ())
            if actor is None or actor in m.actors))

    def targets(self, name: str) -> frozenset[str]:
        return frozenset(m.target for m in self._by_name.get(name, ()))

    def next_states(self, state: str, actor: str | None = None) -> frozenset[str]:
        return frozenset(m.target for m in self.moves
                         if state in m.sources and (actor is None or actor in m.actors))

    def terminal(self) -> frozenset[str]:
        """States nothing leaves."""
        return frozenset(s for s in self.states if not self.next_states(s))

    def reachable_from(self, state: str) -> frozenset[str]:
        """Every state a record in `state` may still reach (itself excluded)."""
        seen: set[str] = set()
        todo = [state]
        while todo:
            for nxt in self.next_states(todo.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return frozenset(seen)

    # -- checks -----------------------------------------------------------------------------

    def find(self, state: str, name: str, actor: str | None = None) -> Move | None:
        for m in self._by_name.get(name, ()):
            if state in m.sources and (actor is None or actor in m.actors):
                return m
        return None

    def may(self, state: str, name: str, actors: Iterable[str]) -> bool:
        return any(self.find(state, name, a) is not None for a in actors)

    def check(self, state: str, name: str, actors: Iterable[str], *,
              refusal: object = None, done: object = None) -> Move:
        """The move `name` from `state` by someone acting as one of `actors`, or raise.

        Already in the move's target state: Conflict with code "already_done" (a double
        click or a second tab), worded by `done`. Otherwise a move not in the table:
        Refused, worded by `refusal`.
        """
        actors = tuple(actors)
        for actor in actors:
            found = self.find(state, name, actor)
            if found is not None:
                return found
        if name not in self._by_name:
            raise ValueError(f"{self.name} has no move {name!r}")
        if state in self.targets(name) and any(
                a in m.actors for m in self._by_name[name] for a in actors):
            raise Conflict(done or _l("This has already been done."), code="already_done")
        raise Refused(refusal or _l("This is not possible in the current state."),
                      code="not_allowed")
