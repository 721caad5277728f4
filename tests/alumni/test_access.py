"""The alumni rules of the access-control table, requested as every viewer.

The shared inventory test does the same for all areas; this one keeps the alumni rules
honest while the area is worked on (and checks that every alumni route has a rule).
"""

from __future__ import annotations

from portal.accounts.models import Role
from tests.access import rules_alumni
from tests.access.rules import VIEWERS, World
from tests.conftest import login

REFUSED = {302, 303, 401, 403, 404}


def _world(factory):  # noqa: ANN001, ANN202
    world = World()
    world.institution_a = factory.institution()
    world.institution_b = factory.institution()
    world.staff = factory.staff()
    world.nominator = factory.nominator(world.institution_a)
    world.other_nominator = factory.nominator(world.institution_b)
    world.reviewer = factory.reviewer()
    world.other_reviewer = factory.reviewer()
    world.alumnus = factory.user(Role.ALUMNUS)
    world.other_alumnus = factory.user(Role.ALUMNUS)
    rules_alumni.build(world, factory)
    return world


def test_every_alumni_route_has_a_rule(app) -> None:
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("alumni.")}
    assert endpoints == {r.endpoint for r in rules_alumni.RULES}


def test_alumni_rules_for_every_viewer(client, factory) -> None:
    """One pass per viewer, changing rules last: only staff may use those, and a refusal
    does not depend on what staff changed."""
    world = _world(factory)
    ordered = sorted(rules_alumni.RULES, key=lambda r: r.mutates)
    for viewer in VIEWERS:
        client.post("/logout")
        if viewer != "anonymous":
            login(client, getattr(world, viewer))
        for rule in ordered:
            _check(client, world, rule, viewer)


def _check(client, world, rule, viewer) -> None:  # noqa: ANN001
    url = rule.url(world)
    if rule.method == "GET":
        response = client.get(url)
    else:
        response = client.open(url, method=rule.method,
                               data=rule.data(world) if rule.data else {})
    where = f"{rule.method} {url} as {viewer}"
    if viewer in rule.allowed:
        assert response.status_code in rule.ok, (where, response.status_code,
                                                  response.data[:300])
    else:
        assert response.status_code in REFUSED, (where, response.status_code)
        if response.status_code in (302, 303):
            assert "/login" in response.headers["Location"], where
