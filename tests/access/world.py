"""The world the access-control inventory runs in: real people and real objects.

`build_world(factory)` creates the eight viewers' accounts (institution A is the "own"
side, institution B the other), the foundation's own objects (outbox messages, requests
for access, one-time links, a spare account to deactivate), then hands the world to
every `tests/access/rules_*.py` module's optional `build(world, factory)`.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import timedelta
from pathlib import Path
from types import ModuleType

from portal.accounts.models import Role
from tests.access.rules import Rule, World

HERE = Path(__file__).resolve().parent


def rules_modules() -> list[ModuleType]:
    """Every tests/access/rules_<area>.py, imported (new areas are found on their own)."""
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)])
                   if m.name.startswith("rules_"))
    return [importlib.import_module(f"tests.access.{name}") for name in names]


def all_rules() -> list[tuple[str, Rule]]:
    """(module name, rule) for every rule of every area."""
    found = []
    for module in rules_modules():
        for rule in getattr(module, "RULES", []):
            found.append((module.__name__.rsplit(".", 1)[-1], rule))
    return found


# The people of the world: the two institutions and one account per signed-in viewer.
PEOPLE = ("institution_a", "institution_b", "staff", "nominator", "other_nominator",
          "reviewer", "other_reviewer", "alumnus", "other_alumnus")


def build_world(factory, people: dict[str, object] | None = None) -> World:  # noqa: ANN001
    """The whole world; with `people` (from an earlier world), only what surrounds them."""
    from portal import tokens
    from portal.db import utcnow
    from portal.extensions import db
    from portal.institutions.models import Institution, InstitutionStatus
    from portal.notify.models import MailStatus, OutboxMessage

    w = World()
    if people:
        for name in PEOPLE:
            setattr(w, name, people[name])
    else:
        _people(w, factory)

    # Foundation objects. Nobody signs in as these, so POSTs may change them.
    w.spare_person = factory.reviewer(name="Spare Person", email="spare@access.example.org")
    w.invited_person = factory.user(Role.REVIEWER, email="invited@access.example.org",
                                    password_hash=None)
    w.reset_token = tokens.issue("reset", lifetime=timedelta(hours=2),
                                 user_id=w.spare_person.id)
    w.invite_token = tokens.issue("invite", lifetime=timedelta(days=7),
                                  user_id=w.invited_person.id)
    requested = {
        "status": InstitutionStatus.REQUESTED, "country": "PH", "city": "Manila",
        "timezone": "Asia/Manila", "kind": "association", "head_name": "Dr. Head",
        "contact_position": "Secretary",
    }
    w.access_request = Institution(name="Request To Approve", head_email="head@r1.example.org",
                                   contact_name="Asker One", contact_email="one@r1.example.org",
                                   **requested)
    w.access_request_to_decline = Institution(
        name="Request To Decline", head_email="head@r2.example.org", contact_name="Asker Two",
        contact_email="two@r2.example.org", **requested)
    mail = {"subject": "Access test", "body_text": "Hello", "template": "test",
            "language": "en", "next_attempt_at": utcnow()}
    w.held_message = OutboxMessage(to_addr="held@access.example.org", status=MailStatus.HELD,
                                   review_required=True, **mail)
    w.failed_message = OutboxMessage(to_addr="failed@access.example.org", status=MailStatus.FAILED,
                                     attempts=8, last_error="SMTPDataError: 451", **mail)
    db.session.add_all([w.access_request, w.access_request_to_decline, w.held_message,
                        w.failed_message])
    db.session.commit()

    for module in rules_modules():
        build = getattr(module, "build", None)
        if build is not None:
            build(w, factory)
    db.session.commit()
    return w


def _people(w: World, factory) -> None:  # noqa: ANN001
    w.institution_a = factory.institution(name="Institution A", country="MY",
                                          timezone="Asia/Kuala_Lumpur")
    w.institution_b = factory.institution(name="Institution B", country="VN",
                                          city="Hanoi", timezone="Asia/Ho_Chi_Minh")
    w.staff = factory.staff(name="Staff Member", email="staff@access.example.org")
    w.nominator = factory.nominator(w.institution_a, email="nominator@a.access.example.org")
    w.other_nominator = factory.nominator(w.institution_b, email="nominator@b.access.example.org")
    w.reviewer = factory.reviewer(email="reviewer@access.example.org")
    w.other_reviewer = factory.reviewer(email="other.reviewer@access.example.org")
    w.alumnus = factory.alumnus(email="alumnus@access.example.org")
    w.other_alumnus = factory.alumnus(email="other.alumnus@access.example.org")


def clear_all_but_people(world: World) -> None:
    """Delete every row except the people's (their accounts, roles and institutions), so a
    new world can be built around them while their signed-in clients stay signed in."""
    from portal.extensions import db

    users = {getattr(world, name).id for name in PEOPLE[2:]}
    institutions = {world.institution_a.id, world.institution_b.id}
    db.session.commit()
    for table in reversed(db.metadata.sorted_tables):
        statement = table.delete()
        if table.name == "users":
            statement = statement.where(table.c.id.not_in(users))
        elif table.name == "user_roles":
            statement = statement.where(table.c.user_id.not_in(users))
        elif table.name == "institutions":
            statement = statement.where(table.c.id.not_in(institutions))
        db.session.execute(statement)
    db.session.commit()
