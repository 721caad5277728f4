"""The access-control inventory: every route is listed, and every listed rule is tried by
every kind of viewer against real objects owned by the other side.

Allowed viewers must get the rule's `ok` answer; everyone else a refusal (anonymous: a
redirect to /login; signed in: 403 or 404), never 2xx. The world is built once per
backend and each viewer signs in once (argon2 is slow on purpose). Rules that change the
world (`mutates=True`) run after the others, in the order listed: refused viewers first,
then the first allowed viewer on the same world, and each further allowed viewer on a
freshly built world. Signing out runs last.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from portal.extensions import db
from tests.access.rules import VIEWERS, Rule
from tests.access.world import PEOPLE, all_rules, build_world, clear_all_but_people
from tests.conftest import empty_database, login

SKIPPED_ENDPOINTS = {"static"}


def test_every_route_has_a_rule(app) -> None:  # noqa: ANN001
    """Every endpoint, and each method it answers, is in some rules module."""
    listed = {(rule.endpoint, rule.method) for _, rule in all_rules()}
    routes = {(r.endpoint, m) for r in app.url_map.iter_rules()
              for m in (r.methods or set()) - {"HEAD", "OPTIONS"}
              if r.endpoint not in SKIPPED_ENDPOINTS}
    endpoints = {e for e, _ in routes}
    missing = sorted({e for e, _ in routes - listed} - {e for e, _ in listed})
    assert not missing, (
        "routes without an access rule (add them to tests/access/rules_<area>.py): "
        + ", ".join(missing))
    untried = sorted(f"{m} {e}" for e, m in routes - listed)
    assert not untried, ("methods of routes no rule tries (add a Rule with method=...): "
                         + ", ".join(untried))
    unknown = sorted({f"{name}: {rule.endpoint}" for name, rule in all_rules()
                      if rule.endpoint not in endpoints})
    assert not unknown, "rules naming endpoints that do not exist: " + ", ".join(unknown)


def test_rules_are_well_formed(app) -> None:  # noqa: ANN001
    """A rule's method must be one its endpoint answers, and it may only name viewers."""
    methods: dict[str, set[str]] = {}
    for r in app.url_map.iter_rules():
        methods.setdefault(r.endpoint, set()).update(r.methods or ())
    problems = []
    for name, rule in all_rules():
        if rule.endpoint in methods and rule.method not in methods[rule.endpoint]:
            problems.append(f"{name}: {rule.endpoint} does not answer {rule.method}")
        if not rule.allowed <= set(VIEWERS):
            problems.append(f"{name}: {rule.endpoint} names unknown viewers "
                            f"{sorted(rule.allowed - set(VIEWERS))}")
        if any(200 <= s < 300 for s in rule.ok) and not rule.allowed:
            problems.append(f"{name}: {rule.endpoint} allows nobody")
    assert not problems, "\n".join(problems)


def _order(rules: list[tuple[str, Rule]]) -> list[tuple[str, Rule]]:
    # Reading first, then changes (in the order listed), and signing out at the very end.
    return sorted(rules, key=lambda nr: (nr[1].endpoint == "auth.logout", nr[1].mutates))


def _judge(rule: Rule, viewer: str, response) -> str | None:  # noqa: ANN001
    status = response.status_code
    if viewer in rule.allowed:
        if status not in rule.ok:
            return f"expected {rule.ok}, got {status}"
        return None
    if 200 <= status < 300:
        return f"NOT ALLOWED but got {status}"
    if viewer == "anonymous":
        location = urlsplit(response.headers.get("Location", "")).path
        if status not in (302, 303) or location != "/login":
            return f"expected a redirect to /login, got {status} {location}"
        return None
    if status not in (403, 404):
        return f"expected 403 or 404, got {status}"
    return None


class Viewers:
    """The world and one signed-in client per viewer (signed in when first needed)."""

    def __init__(self, app, factory) -> None:  # noqa: ANN001
        self.app, self.factory = app, factory
        self.world = build_world(factory)
        self.clients: dict[str, object] = {}
        self.tokens: dict[str, str] = {}

    def client(self, viewer: str):  # noqa: ANN201
        if viewer not in self.clients:
            client = self.app.test_client()
            # One address per viewer: per-IP limits (sign-in, access requests) stay apart.
            client.environ_base["REMOTE_ADDR"] = f"198.51.100.{VIEWERS.index(viewer) + 1}"
            if viewer != "anonymous":
                user = getattr(self.world, viewer)
                login(client, user)
                self.tokens[viewer] = user.session_token
            self.clients[viewer] = client
        return self.clients[viewer]

    def fresh_world(self) -> None:
        """A new world around the same people (whose clients stay signed in); if a rule
        changed one of the people's accounts, a new world from an empty database."""
        people = {name: getattr(self.world, name) for name in PEOPLE}
        db.session.expire_all()
        changed = any(
            (u := people[v]).session_token != self.tokens[v] or not u.active or u.has_2fa
            for v in self.tokens)
        if not changed:
            clear_all_but_people(self.world)
            self.world = build_world(self.factory, people)
            return
        db.session.remove()  # let go of this test's transaction before emptying tables
        empty_database(self.app)
        self.world = build_world(self.factory)
        self.clients, self.tokens = {}, {}


def test_every_rule_as_every_viewer(app_ctx, factory) -> None:  # noqa: ANN001
    viewers = Viewers(app_ctx, factory)
    failures = []

    def request(module: str, rule: Rule, viewer: str) -> None:
        url = rule.url(viewers.world)
        data = rule.data(viewers.world) if rule.data else None
        response = viewers.client(viewer).open(url, method=rule.method, data=data)
        if problem := _judge(rule, viewer, response):
            failures.append(f"{module}: {rule.method} {url} ({rule.endpoint}) as {viewer}: "
                            f"{problem}")

    for module, rule in _order(all_rules()):
        if not rule.mutates:
            for viewer in VIEWERS:
                request(module, rule, viewer)
            continue
        # Refused viewers cannot change anything, so they share the world; the first
        # allowed viewer changes it, and each further allowed viewer gets a fresh world.
        for viewer in [v for v in VIEWERS if v not in rule.allowed]:
            request(module, rule, viewer)
        for n, viewer in enumerate(v for v in VIEWERS if v in rule.allowed):
            if n:
                viewers.fresh_world()
            request(module, rule, viewer)
    assert not failures, f"{len(failures)} access problems:\n" + "\n".join(failures)
