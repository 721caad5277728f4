"""The institution's overview: open cycle, its nominations, limits, deadline, past cycles.

A constant number of queries whatever the number of nominations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.cycles.models import Cycle, CycleStatus
from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations import checklist, confirmations, services
from portal.nominations.labels import STATE_LABELS
from portal.nominations.models import COUNTED_STATES, Nomination


@dataclass(frozen=True)
class Countdown:
    """Time left until a deadline: the text as of now, and what the page's script needs
    to keep it current (static/js/portal.js) in the reader's language."""

    deadline: datetime
    text: str

    def __str__(self) -> str:
        return self.text

    @property
    def deadline_utc(self) -> str:
        return self.deadline.astimezone(UTC).isoformat().replace("+00:00", "Z")

    @staticmethod
    def patterns() -> dict[str, str]:
        # gettext without values returns the translated pattern with its placeholders.
        return {"days": _("%(days)d days and %(hours)d hours left"),
                "hours": _("%(hours)d hours and %(minutes)d minutes left"),
                "passed": _("The deadline has passed.")}


def countdown(deadline: datetime, now: datetime | None = None) -> Countdown:
    left = deadline - (now or utcnow())
    patterns = Countdown.patterns()
    if left.total_seconds() <= 0:
        return Countdown(deadline, patterns["passed"])
    days, rest = divmod(int(left.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return Countdown(deadline, patterns["days"] % {"days": days, "hours": hours})
    return Countdown(deadline, patterns["hours"] % {"hours": hours, "minutes": rest // 60})


@dataclass
class CycleView:
    cycle: Cycle
    nominations: list[Nomination]
    checklists: dict[int, checklist.Checklist]
    statuses: dict[int, confirmations.Status]
    counted: int
    countdown: Countdown
    can_create: bool


@dataclass
class Overview:
    institution: Institution | None
    open: list[CycleView] = field(default_factory=list)
    upcoming: list[Cycle] = field(default_factory=list)
    past: list[tuple[Cycle, dict[str, int]]] = field(default_factory=list)


def counted(cycle: Cycle, institution_id: int) -> int | None:
    """How many of the institution's nominations count against the cycle's limit (None
    when the cycle sets none)."""
    if cycle.max_submissions_per_institution is None:
        return None
    return db.session.scalar(select(func.count(Nomination.id)).where(
        Nomination.cycle_id == cycle.id, Nomination.institution_id == institution_id,
        Nomination.state.in_(COUNTED_STATES))) or 0


def load(user: User) -> dict[str, Any]:
    """The nominator's dashboard section (portal.registry)."""
    return {"overview": overview(user.institution_id), "states": STATE_LABELS}


def overview(institution_id: int | None) -> Overview:
    if institution_id is None:
        return Overview(None)
    institution = db.session.get(Institution, institution_id)
    if institution is None:
        return Overview(None)
    now = utcnow()
    published = db.session.scalars(
        select(Cycle).where(Cycle.status == CycleStatus.PUBLISHED).order_by(Cycle.closes_at)
    ).all()
    open_cycles = [c for c in published if c.opens_at <= now < c.closes_at]
    result = Overview(institution, upcoming=[c for c in published if c.opens_at > now])
    if open_cycles:
        noms = db.session.scalars(
            select(Nomination).where(Nomination.institution_id == institution_id,
                                     Nomination.cycle_id.in_([c.id for c in open_cycles]))
            .options(joinedload(Nomination.specialty))
            .order_by(Nomination.created_at, Nomination.id)
        ).all()
        checks = services.checklists_for(list(noms))
        statuses = confirmations.latest([n.id for n in noms])
        for cycle in open_cycles:
            mine = [n for n in noms if n.cycle_id == cycle.id]
            counted = sum(1 for n in mine if n.state in COUNTED_STATES)
            result.open.append(CycleView(
                cycle, mine, checks, statuses, counted, countdown(cycle.closes_at, now),
                can_create=institution.is_active))
    open_ids = {c.id for c in open_cycles}
    rows = db.session.execute(
        select(Nomination.cycle_id, Nomination.state, func.count(Nomination.id))
        .where(Nomination.institution_id == institution_id)
        .group_by(Nomination.cycle_id, Nomination.state)
    ).all()
    by_cycle: dict[int, dict[str, int]] = {}
    for cycle_id, state, n in rows:
        if cycle_id not in open_ids:
            by_cycle.setdefault(cycle_id, {})[state] = n
    if by_cycle:
        cycles = db.session.scalars(
            select(Cycle).where(Cycle.id.in_(by_cycle)).order_by(Cycle.opens_at.desc())).all()
        result.past = [(c, by_cycle[c.id]) for c in cycles]
    return result
