"""The access-control table's vocabulary. Each area lists its routes in rules_<area>.py.

A `Rule` names one endpoint of `app.url_map`, how to build a URL to a real object owned by
the "own" side of the world (institution A, alumnus A...), the method, and which viewers
may use it. The inventory test requests every rule as every viewer and checks that allowed
viewers get `ok` and everyone else gets a refusal (login redirect, 403 or 404), never 2xx.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Who the inventory test signs in as. "nominator" belongs to institution A, which owns the
# objects the URLs point at; "other_nominator" belongs to institution B. "alumnus" owns
# alumnus-side objects; "other_alumnus" does not. "reviewer" is assigned what a rule says.
VIEWERS = ("anonymous", "staff", "nominator", "other_nominator", "reviewer",
           "other_reviewer", "alumnus", "other_alumnus")

EVERYONE = frozenset(VIEWERS)
SIGNED_IN = EVERYONE - {"anonymous"}
STAFF = frozenset({"staff"})


@dataclass(frozen=True)
class Rule:
    endpoint: str
    url: Callable[[Any], str]  # (world) -> URL of a real object
    allowed: frozenset[str]
    method: str = "GET"
    data: Callable[[Any], dict] | None = None  # form data for POST (valid, harmless)
    ok: tuple[int, ...] = (200,)  # what allowed viewers get
    note: str = ""
    # POSTs that change the world (deactivate...) run after the read-only rules, in the
    # order listed; each allowed viewer after the first gets a freshly built world.
    mutates: bool = field(default=False)


class World:
    """Real objects the rules point at. The foundation fills the people; each area's
    rules module adds its objects in `build(world, factory)`."""

    def __getattr__(self, name: str) -> Any:  # a clear message for a typo in a rule
        raise AttributeError(f"the access world has no {name!r}; add it in a build() hook")
