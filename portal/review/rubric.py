"""A cycle's rubric: criteria with a scale, a weight and guidance per scale point.

A review's score is the weighted mean of its criteria, each scaled to 0-1, re-weighted
over the criteria actually scored (portal.review.rubric_score); `score_of(review)` is that
score for a stored review, and every service that changes a review's scores sets
`review.score = score_of(review)`.

The lock: once the first review of the cycle is submitted, criteria cannot be added or
removed and their scales, weights and required flags cannot change, so every score of
the cycle means the same. The wording (name, description, guidance) and the order stay
editable. The check runs under the cycle's settings row lock (`lock_rubric`), which the
submission of a review takes as well: a rubric change and a first submission happen
one after the other, never both on the old state.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, select

from portal.accounts.models import User
from portal.audit.services import record
from portal.cycles.models import Cycle
from portal.errors import Refused
from portal.extensions import db
from portal.review.models import Criterion, Review, ReviewStatus
from portal.review.rubric_score import Scale, weighted_score
from portal.review.setup import FIELDS as SETTING_FIELDS
from portal.review.setup import ensure_setup, lock_setup, setup_of

# What the lock keeps as it is; the rest is wording and order.
LOCKED_FIELDS = ("scale_min", "scale_max", "weight", "required")
WORDING_FIELDS = ("name", "description", "guidance", "position")
SCALE_BOUNDS = (0, 100)  # a scale lies within 0..100 (1-5, 0-10, 0-100)
MAX_WEIGHT = 100.0
MAX_CRITERIA = 30

class RubricError(Refused):
    """A refused change of the rubric; the message is shown to staff."""


LOCKED = _l("Reviews of this cycle have been submitted, so criteria, scales, weights and "
            "required flags are locked: every score of the cycle must mean the same. You "
            "can still edit the wording and the order.")


def criteria_of(cycle_id: int) -> list[Criterion]:
    return list(db.session.scalars(select(Criterion).where(Criterion.cycle_id == cycle_id)
                                   .order_by(Criterion.position, Criterion.id)))


def scales_of(criteria: Iterable[Criterion]) -> list[Scale]:
    return [Scale(c.id, c.scale_min, c.scale_max, c.weight) for c in criteria]


def score_of(review: Review, criteria: Iterable[Criterion] | None = None) -> float | None:
    """The review's score on the cycle's rubric (pass the criteria when you have them)."""
    if criteria is None:
        criteria = criteria_of(review.cycle_id)
    return weighted_score(scales_of(criteria), review.scores or {})


def is_locked(cycle_id: int) -> bool:
    """Has a review of this cycle been submitted (excluded ones included: they were
    scored on this rubric too)?"""
    return bool(db.session.scalar(select(exists().where(
        Review.cycle_id == cycle_id, Review.status == ReviewStatus.SUBMITTED))))


def lock_rubric(cycle: Cycle) -> None:
    """Take the rubric's lock for the rest of the transaction. The first submission of a
    review takes it before it is written, so a rubric change cannot slip in between."""
    lock_setup(cycle)


def _check_unlocked(cycle: Cycle) -> None:
    lock_rubric(cycle)
    if is_locked(cycle.id):
        raise RubricError(LOCKED, code="locked")


# -- values -------------------------------------------------------------------------------

_GUIDANCE_LINE = re.compile(r"^\s*(-?\d{1,3})\s*[:=.)-]\s*(.*\S)\s*$")


def parse_guidance(text: str) -> dict[str, str]:
    """Guidance typed as one line per scale point ("1: No experience"); blank lines are
    skipped. Raises RubricError for a line that is not "<number>: <text>"."""
    guidance: dict[str, str] = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        match = _GUIDANCE_LINE.match(line)
        if match is None:
            raise RubricError(_l("Write guidance as one line per scale point, e.g. "
                                 "“1: No relevant experience”."))
        guidance[str(int(match.group(1)))] = match.group(2)[:500]
    return guidance


def guidance_text(guidance: Mapping[str, str]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in sorted(guidance.items(), key=lambda kv: int(kv[0])))


@dataclass(frozen=True)
class CriterionValues:
    name: str
    description: str
    guidance: dict[str, str]
    scale_min: int
    scale_max: int
    weight: float
    required: bool
    position: int


def _clean(values: Mapping[str, object]) -> CriterionValues:
    name = " ".join(str(values.get("name") or "").split())
    if not name or len(name) > 200:
        raise RubricError(_l("Give the criterion a name (at most 200 characters)."))
    low, high = values.get("scale_min"), values.get("scale_max")
    if not isinstance(low, int) or not isinstance(high, int) or isinstance(low, bool) \
            or isinstance(high, bool):
        raise RubricError(_l("Give the scale as two whole numbers, e.g. 1 to 5."))
    if not SCALE_BOUNDS[0] <= low < high <= SCALE_BOUNDS[1]:
        raise RubricError(_l("The scale runs from a lower to a higher whole number "
                             "between 0 and 100, e.g. 1 to 5 or 0 to 10."))
    weight = values.get("weight")
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) \
            or not 0 < float(weight) <= MAX_WEIGHT:
        raise RubricError(_l("The weight is a number above 0 and at most 100."))
    raw = values.get("guidance") or {}
    guidance = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
    outside = sorted(int(k) for k in guidance if not low <= int(k) <= high)
    if outside:
        raise RubricError(_l("Guidance is given for points outside the scale: %(points)s.",
                             points=", ".join(str(p) for p in outside)))
    position = values.get("position")
    return CriterionValues(
        name=name, description=str(values.get("description") or "").strip()[:5000],
        guidance=guidance, scale_min=low, scale_max=high, weight=round(float(weight), 3),
        required=bool(values.get("required")),
        position=position if isinstance(position, int) and 0 <= position <= 1000 else 0)


def _code_for(cycle_id: int, name: str) -> str:
    """A stable code from the name ("Clinical experience" -> "clinical_experience"),
    unique within the cycle."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:32] or "criterion"
    taken = set(db.session.scalars(select(Criterion.code).where(Criterion.cycle_id == cycle_id)))
    code, n = base, 2
    while code in taken:
        code, n = f"{base}_{n}", n + 1
    return code


def _fit_drafts(cycle_id: int, criteria: list[Criterion]) -> int:
    """Drafts keep only scores the rubric still has, inside each scale (a criterion was
    removed or its scale changed before any review was submitted); their scores follow.
    Returns how many drafts changed."""
    by_id = {str(c.id): c for c in criteria}
    changed = 0
    for review in db.session.scalars(select(Review).where(
            Review.cycle_id == cycle_id, Review.status == ReviewStatus.DRAFT)):
        kept = {k: v for k, v in (review.scores or {}).items()
                if k in by_id and by_id[k].scale_min <= v <= by_id[k].scale_max}
        if kept != (review.scores or {}):
            review.scores = kept
            changed += 1
        review.score = weighted_score(scales_of(criteria), kept)
    return changed


# -- changes --------------------------------------------------------------------------------


def add_criterion(cycle: Cycle, values: Mapping[str, object], actor: User | None) -> Criterion:
    clean = _clean(values)
    _check_unlocked(cycle)
    count = db.session.scalar(select(func.count()).select_from(Criterion).where(
        Criterion.cycle_id == cycle.id)) or 0
    if count >= MAX_CRITERIA:
        raise RubricError(_l("A rubric has at most %(n)d criteria.", n=MAX_CRITERIA))
    position = clean.position or count + 1
    criterion = Criterion(cycle_id=cycle.id, code=_code_for(cycle.id, clean.name),
                          name=clean.name, description=clean.description,
                          guidance=clean.guidance, scale_min=clean.scale_min,
                          scale_max=clean.scale_max, weight=clean.weight,
                          required=clean.required, position=position)
    db.session.add(criterion)
    db.session.flush()
    _fit_drafts(cycle.id, criteria_of(cycle.id))
    record("review.criterion_added", actor=actor, object_type="cycle", object_id=cycle.id,
           details={"criterion": criterion.code, "scale": [clean.scale_min, clean.scale_max],
                    "weight": clean.weight, "required": clean.required})
    return criterion


def update_criterion(cycle: Cycle, criterion: Criterion, values: Mapping[str, object],
                     actor: User | None) -> list[str]:
    """Save a criterion; after the lock only its wording and order. Returns what changed."""
    clean = _clean(values)
    lock_rubric(cycle)
    wanted = {name: getattr(clean, name) for name in (*WORDING_FIELDS, *LOCKED_FIELDS)}
    changed = [name for name, value in wanted.items() if getattr(criterion, name) != value]
    if any(name in LOCKED_FIELDS for name in changed) and is_locked(cycle.id):
        raise RubricError(LOCKED, code="locked")
    for name in changed:
        setattr(criterion, name, wanted[name])
    if changed:
        db.session.flush()
        if {"scale_min", "scale_max", "weight"} & set(changed):
            _fit_drafts(cycle.id, criteria_of(cycle.id))
        record("review.criterion_changed", actor=actor, object_type="cycle",
               object_id=cycle.id, details={"criterion": criterion.code, "changed": changed})
    return changed


def delete_criterion(cycle: Cycle, criterion: Criterion, actor: User | None) -> None:
    _check_unlocked(cycle)
    code = criterion.code
    db.session.delete(criterion)
    db.session.flush()
    _fit_drafts(cycle.id, criteria_of(cycle.id))
    record("review.criterion_removed", actor=actor, object_type="cycle", object_id=cycle.id,
           details={"criterion": code})


def earlier_cycles(cycle: Cycle) -> list[tuple[Cycle, int]]:
    """Other cycles with a rubric to copy, newest first, with their number of criteria."""
    rows = db.session.execute(
        select(Cycle, func.count(Criterion.id)).join(Criterion, Criterion.cycle_id == Cycle.id)
        .where(Cycle.id != cycle.id).group_by(Cycle.id).order_by(Cycle.opens_at.desc())).all()
    return [(c, int(n)) for c, n in rows]


# The settings a copy takes along (never the window: it belongs to the year).
COPIED_SETTINGS = tuple(f for f in SETTING_FIELDS if f != "timezone")


def copy_rubric(source: Cycle, target: Cycle, actor: User | None, *,
                settings: bool = False) -> int:
    """Replace the target's rubric with a copy of the source's (codes kept, so scores of
    both years compare), and with `settings` its review settings but the window. Refused
    once the target's rubric is locked. Returns the number of criteria copied."""
    if source.id == target.id:
        raise RubricError(_l("Choose another cycle to copy from."))
    criteria = criteria_of(source.id)
    if not criteria:
        raise RubricError(_l("That cycle has no rubric to copy."))
    _check_unlocked(target)
    db.session.execute(delete(Criterion).where(Criterion.cycle_id == target.id))
    for c in criteria:
        db.session.add(Criterion(cycle_id=target.id, code=c.code, position=c.position,
                                 name=c.name, description=c.description,
                                 guidance=dict(c.guidance or {}), scale_min=c.scale_min,
                                 scale_max=c.scale_max, weight=c.weight, required=c.required))
    db.session.flush()
    _fit_drafts(target.id, criteria_of(target.id))
    copied: list[str] = []
    if settings:
        source_setup = setup_of(source.id)
        if source_setup is not None:
            setup = ensure_setup(target)
            for name in COPIED_SETTINGS:
                value = getattr(source_setup, name)
                if getattr(setup, name) != value:
                    setattr(setup, name, list(value) if isinstance(value, list) else value)
                    copied.append(name)
    record("review.rubric_copied", actor=actor, object_type="cycle", object_id=target.id,
           details={"from_cycle": source.id, "criteria": len(criteria), "settings": copied})
    return len(criteria)
