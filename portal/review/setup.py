"""Review settings of a cycle: the review window, how many reviews each nomination wants,
the default load, blind fields, others' reviews, confidentiality terms.

The window is entered as local date-times in a zone of the staff's choosing (the
program's zone by default), stored as UTC moments, and shown in Japan time and in the
viewer's zone. Settings stay editable while review runs: a change of blind fields
applies from then on (what reviewers read before is not recalled).

Services take plain values and write their audit record with the actor passed in; they
never commit (the request does).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.audit.services import record
from portal.cycles.models import Cycle, program_timezone
from portal.db import utcnow
from portal.errors import Refused
from portal.extensions import db
from portal.i18n import valid_timezone
from portal.nominations.models import Nomination
from portal.review.models import (
    Assignment,
    AssignmentStatus,
    BlindField,
    Conflict,
    ConflictStatus,
    OthersVisible,
    PoolMember,
    Review,
    ReviewSetup,
    ReviewStatus,
)
from portal.review.policy import REVIEWED_STATES

# Bounds of the numbers staff enter (the table's CHECK constraints hold the first two).
REVIEWS_WANTED = (1, 20)
DEFAULT_LOAD = (1, 1000)

# The fields of the settings form, in order (the window is converted on its own).
FIELDS = ("timezone", "reviews_wanted", "default_load", "blind_fields", "others_visible",
          "others_named", "confidentiality_text", "disagreement_threshold")


class SetupError(Refused):
    """A refused change of review settings; the message is shown to staff."""


class ReviewPhase(enum.StrEnum):
    NOT_SET_UP = "not_set_up"  # no settings yet
    UNSCHEDULED = "unscheduled"  # settings without a window
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"  # decisions published: reviewers keep only their reviews


PHASE_LABELS = {
    ReviewPhase.NOT_SET_UP: _l("Not set up"),
    ReviewPhase.UNSCHEDULED: _l("No review window yet"),
    ReviewPhase.UPCOMING: _l("Review not open yet"),
    ReviewPhase.OPEN: _l("Review open"),
    ReviewPhase.CLOSED: _l("Review closed"),
    ReviewPhase.PUBLISHED: _l("Decisions published"),
}


def phase(setup: ReviewSetup | None, now: datetime | None = None) -> ReviewPhase:
    now = now or utcnow()
    if setup is None:
        return ReviewPhase.NOT_SET_UP
    if setup.decisions_published_at is not None:
        return ReviewPhase.PUBLISHED
    if setup.opens_at is None:
        return ReviewPhase.UNSCHEDULED
    if setup.is_closed(now):
        return ReviewPhase.CLOSED
    if setup.is_open(now):
        return ReviewPhase.OPEN
    return ReviewPhase.UPCOMING


def setup_of(cycle_id: int) -> ReviewSetup | None:
    return db.session.scalar(select(ReviewSetup).where(ReviewSetup.cycle_id == cycle_id))


def defaults() -> dict[str, object]:
    return {"timezone": program_timezone(), "reviews_wanted": 3, "default_load": 15,
            "blind_fields": [], "others_visible": OthersVisible.AFTER_OWN,
            "others_named": False, "confidentiality_text": "",
            "disagreement_threshold": 0.35}


def ensure_setup(cycle: Cycle) -> ReviewSetup:
    """The cycle's settings row, made with the defaults on first use (flushed)."""
    setup = setup_of(cycle.id)
    if setup is not None:
        return setup
    try:
        with db.session.begin_nested():  # two first uses at once: one row, the other reads it
            setup = ReviewSetup(cycle_id=cycle.id, **defaults())
            db.session.add(setup)
    except IntegrityError:
        setup = setup_of(cycle.id)
        assert setup is not None  # the other request's row
    return setup


def lock_setup(cycle: Cycle) -> ReviewSetup:
    """The cycle's settings row, locked until the transaction ends (PostgreSQL: FOR
    UPDATE; SQLite: writers hold the database lock from BEGIN). Changes that depend on
    the review's progress (the rubric lock, automatic conflicts) take it first, so two
    of them, or one of them and a first submission, happen one after the other."""
    ensure_setup(cycle)
    setup = db.session.scalar(
        select(ReviewSetup).where(ReviewSetup.cycle_id == cycle.id).with_for_update()
        .execution_options(populate_existing=True))
    assert setup is not None  # made above
    return setup


# -- the window -----------------------------------------------------------------------


def to_utc(local: datetime, zone: str) -> datetime:
    """A wall-clock time entered in `zone` as an aware UTC moment."""
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def to_local(value: datetime | None, zone: str) -> datetime | None:
    return value.astimezone(ZoneInfo(zone)).replace(tzinfo=None) if value else None


def form_data(setup: ReviewSetup) -> dict[str, object]:
    """Values for the settings form: the window in the zone it was entered in."""
    data: dict[str, object] = {name: getattr(setup, name) for name in FIELDS}
    data["opens_local"] = to_local(setup.opens_at, setup.timezone)
    data["closes_local"] = to_local(setup.closes_at, setup.timezone)
    return data


def _number(value: object, bounds: tuple[int, int], message: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) \
            or not bounds[0] <= value <= bounds[1]:
        raise SetupError(message)
    return value


def _clean(values: Mapping[str, object]) -> dict[str, object]:
    zone = str(values.get("timezone") or "")
    if not valid_timezone(zone):
        raise SetupError(_l("Choose a time zone from the list."))
    opens, closes = values.get("opens_local"), values.get("closes_local")
    if opens is not None and not isinstance(opens, datetime):
        raise SetupError(_l("Enter when review opens as a date and time."))
    if closes is not None and not isinstance(closes, datetime):
        raise SetupError(_l("Enter when review closes as a date and time."))
    if closes is not None and opens is None:
        raise SetupError(_l("Say when review opens, or leave both moments empty."))
    opens_at = to_utc(opens, zone) if opens else None
    closes_at = to_utc(closes, zone) if closes else None
    if opens_at and closes_at and closes_at <= opens_at:
        raise SetupError(_l("Review must close after it opens."))
    raw_blind = values.get("blind_fields")
    blind = [str(b) for b in raw_blind] if isinstance(raw_blind, (list, tuple, set)) else []
    unknown = set(blind) - {str(b) for b in BlindField}
    if unknown:
        raise SetupError(_l("Unknown blind field: %(field)s", field=", ".join(sorted(unknown))))
    others = str(values.get("others_visible") or "")
    if others not in {str(o) for o in OthersVisible}:
        raise SetupError(_l("Choose when reviewers see each other's reviews."))
    threshold = values.get("disagreement_threshold")
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) \
            or not 0 < float(threshold) <= 1:
        raise SetupError(_l("The disagreement threshold is a share of the score scale, "
                            "between 0 and 1 (e.g. 0.35)."))
    return {
        "opens_at": opens_at, "closes_at": closes_at, "timezone": zone,
        "reviews_wanted": _number(values.get("reviews_wanted"), REVIEWS_WANTED,
                                  _l("Reviews wanted per nomination: between 1 and 20.")),
        "default_load": _number(values.get("default_load"), DEFAULT_LOAD,
                                _l("Default load per reviewer: between 1 and 1000.")),
        # In the order of BlindField, so the stored list compares equal however ticked.
        "blind_fields": [str(b) for b in BlindField if str(b) in blind],
        "others_visible": others, "others_named": bool(values.get("others_named")),
        "confidentiality_text": str(values.get("confidentiality_text") or "").strip(),
        "disagreement_threshold": round(float(threshold), 3),
    }


def update_settings(cycle: Cycle, values: Mapping[str, object], actor: User | None,
                    ) -> list[str]:
    """Check every value, then save them; returns the names of what changed. Blind
    fields switched on or off apply from now on."""
    clean = _clean(values)
    setup = ensure_setup(cycle)
    changed: dict[str, object] = {}
    for name, value in clean.items():
        if getattr(setup, name) != value:
            setattr(setup, name, value)
            changed[name] = value.isoformat() if isinstance(value, datetime) else value
    if changed:
        setup.updated_at = utcnow()
        record("review.settings_changed", actor=actor, object_type="cycle",
               object_id=cycle.id, details={"changed": changed})
    return sorted(changed)


# -- the list of cycles for staff -------------------------------------------------------


@dataclass(frozen=True)
class CycleReview:
    """One line of the staff's list of cycles: the review's phase and its figures."""

    cycle: Cycle
    setup: ReviewSetup | None
    phase: ReviewPhase
    nominations: int  # in a reviewed state
    pool: int  # active members
    assignments: int  # active
    submitted: int  # reviews submitted and counted
    to_confirm: int  # conflicts waiting for staff


def _by_cycle(query: Select[tuple[int, int]]) -> dict[int, int]:
    return {cycle_id: int(n or 0) for cycle_id, n in db.session.execute(query).all()}


def cycles_overview(now: datetime | None = None) -> list[CycleReview]:
    """Every cycle, newest first, with its review's phase and figures (six queries,
    whatever the number of cycles)."""
    cycles = list(db.session.scalars(select(Cycle).order_by(Cycle.opens_at.desc())))
    setups = {s.cycle_id: s for s in db.session.scalars(select(ReviewSetup))}
    nominations = _by_cycle(select(Nomination.cycle_id, func.count()).where(
        Nomination.state.in_(REVIEWED_STATES)).group_by(Nomination.cycle_id))
    pool = _by_cycle(select(PoolMember.cycle_id, func.count()).where(
        PoolMember.active.is_(True)).group_by(PoolMember.cycle_id))
    assignments = _by_cycle(select(Assignment.cycle_id, func.count()).where(
        Assignment.status == AssignmentStatus.ACTIVE).group_by(Assignment.cycle_id))
    counted = _by_cycle(select(Review.cycle_id, func.sum(case(
        (Review.excluded_at.is_(None), 1), else_=0))).where(
        Review.status == ReviewStatus.SUBMITTED).group_by(Review.cycle_id))
    to_confirm = _by_cycle(select(Conflict.cycle_id, func.count()).where(
        Conflict.status == ConflictStatus.TO_CONFIRM).group_by(Conflict.cycle_id))
    return [CycleReview(cycle=c, setup=setups.get(c.id), phase=phase(setups.get(c.id), now),
                        nominations=nominations.get(c.id, 0), pool=pool.get(c.id, 0),
                        assignments=assignments.get(c.id, 0),
                        submitted=counted.get(c.id, 0),
                        to_confirm=to_confirm.get(c.id, 0))
            for c in cycles]


def cycle_overview(cycle: Cycle, now: datetime | None = None) -> CycleReview:
    """The same figures for one cycle (the hub's header)."""
    setup = setup_of(cycle.id)

    def count(query: Select[tuple[int]]) -> int:
        return int(db.session.scalar(query) or 0)

    return CycleReview(
        cycle=cycle, setup=setup, phase=phase(setup, now),
        nominations=count(select(func.count()).select_from(Nomination).where(
            Nomination.cycle_id == cycle.id, Nomination.state.in_(REVIEWED_STATES))),
        pool=count(select(func.count()).select_from(PoolMember).where(
            PoolMember.cycle_id == cycle.id, PoolMember.active.is_(True))),
        assignments=count(select(func.count()).select_from(Assignment).where(
            Assignment.cycle_id == cycle.id, Assignment.status == AssignmentStatus.ACTIVE)),
        submitted=count(select(func.count()).select_from(Review).where(
            Review.cycle_id == cycle.id, Review.status == ReviewStatus.SUBMITTED,
            Review.excluded_at.is_(None))),
        to_confirm=count(select(func.count()).select_from(Conflict).where(
            Conflict.cycle_id == cycle.id, Conflict.status == ConflictStatus.TO_CONFIRM)),
    )


def conflicts_to_confirm() -> int:
    """Automatic matches waiting for staff, in every cycle (the staff dashboard)."""
    return int(db.session.scalar(select(func.count()).select_from(Conflict).where(
        Conflict.status == ConflictStatus.TO_CONFIRM)) or 0)
