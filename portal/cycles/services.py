"""Cycles: create, edit, publish, close, copy; specialties and document requirements.

Services never commit; routes do.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.audit.services import record
from portal.cycles.forms import parse_specialties
from portal.cycles.models import Cycle, CycleStatus, DocumentRequirement, Specialty
from portal.extensions import db

SETTINGS = (
    "name", "window_timezone", "training_starts_on", "training_ends_on", "review_starts_on",
    "review_ends_on", "retention_days", "seats_total", "seats_per_country",
    "seats_per_institution", "max_submissions_per_institution", "max_submissions_per_country",
    "min_experience_years", "max_experience_years", "min_age", "max_age",
    "english_evidence_required", "prior_participation", "endorsement_required", "consent_text",
)
REQUIREMENT_FIELDS = ("code", "label", "help_text", "required", "accepted_types",
                      "max_size_mb", "validity_rule", "validity_param", "sensitivity",
                      "position")


class CycleError(Exception):
    def __init__(self, message: Any) -> None:
        super().__init__(message)
        self.message = message


def to_utc(local: datetime, zone: str) -> datetime:
    """A wall-clock time entered in `zone` as aware UTC."""
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def to_local(value: datetime, zone: str) -> datetime:
    return value.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def form_data(cycle: Cycle) -> dict[str, Any]:
    """Values for the edit form (window shown in the zone it was entered in)."""
    data = {name: getattr(cycle, name) for name in SETTINGS}
    data["opens_local"] = to_local(cycle.opens_at, cycle.window_timezone)
    data["closes_local"] = to_local(cycle.closes_at, cycle.window_timezone)
    data["specialties"] = "\n".join(f"{s.code}: {s.name}" for s in cycle.specialties)
    return data


def _name_taken(name: str, cycle_id: int | None) -> bool:
    query = select(Cycle.id).where(func.lower(Cycle.name) == name.strip().lower())
    if cycle_id is not None:
        query = query.where(Cycle.id != cycle_id)
    return db.session.scalar(query) is not None


def apply(cycle: Cycle, data: dict[str, Any]) -> dict[str, Any]:
    """Copy the form's values; returns what changed."""
    if _name_taken(data["name"], cycle.id):
        raise CycleError(_l("Another cycle has this name."))
    changed: dict[str, Any] = {}
    values = {name: data[name] for name in SETTINGS}
    values["name"] = values["name"].strip()
    values["opens_at"] = to_utc(data["opens_local"], data["window_timezone"])
    values["closes_at"] = to_utc(data["closes_local"], data["window_timezone"])
    for name, value in values.items():
        if getattr(cycle, name, None) != value:
            setattr(cycle, name, value)
            changed[name] = value.isoformat() if isinstance(value, date | datetime) else value
    return changed


def set_specialties(cycle: Cycle, text: str) -> None:
    """Keep a specialty that stays (nominations point at it), add new, drop removed ones
    that no nomination chose."""
    from portal.nominations.models import Nomination

    wanted = parse_specialties(text)
    existing = {s.code: s for s in cycle.specialties}
    for position, (code, name) in enumerate(wanted):
        specialty = existing.pop(code, None)
        if specialty is None:
            cycle.specialties.append(Specialty(code=code, name=name, position=position))
        else:
            specialty.name, specialty.position = name, position
    for specialty in existing.values():
        if specialty.id is not None and db.session.scalar(
                select(func.count(Nomination.id)).where(
                    Nomination.specialty_id == specialty.id)):
            raise CycleError(_l("Specialty %(code)s is chosen by nominations; it cannot be "
                                "removed.", code=specialty.code))
        cycle.specialties.remove(specialty)


def create(data: dict[str, Any], actor: Any) -> Cycle:
    cycle = Cycle(status=CycleStatus.DRAFT, reminders_sent={})
    apply(cycle, data)
    db.session.add(cycle)
    set_specialties(cycle, data.get("specialties") or "")
    db.session.flush()
    record("cycle.created", actor=actor, object_type="cycle", object_id=cycle.id,
           details={"name": cycle.name})
    return cycle


def update(cycle: Cycle, data: dict[str, Any], actor: Any) -> None:
    changed = apply(cycle, data)
    set_specialties(cycle, data.get("specialties") or "")
    db.session.flush()
    if changed:
        record("cycle.changed", actor=actor, object_type="cycle", object_id=cycle.id,
               details=changed)


def publish(cycle: Cycle, actor: Any) -> None:
    if cycle.status == CycleStatus.PUBLISHED:
        return
    if not cycle.requirements:
        raise CycleError(_l("Add the documents the cycle asks for before publishing it."))
    if not cycle.specialties:
        raise CycleError(_l("Add at least one specialty before publishing the cycle."))
    cycle.status = CycleStatus.PUBLISHED
    record("cycle.published", actor=actor, object_type="cycle", object_id=cycle.id)


def close(cycle: Cycle, actor: Any) -> None:
    cycle.status = CycleStatus.CLOSED
    record("cycle.closed", actor=actor, object_type="cycle", object_id=cycle.id)


def _shift_year(value: Any) -> Any:
    if value is None:
        return None
    try:
        return value.replace(year=value.year + 1)
    except ValueError:  # 29 February
        return value.replace(year=value.year + 1, day=28)


def next_name(name: str) -> str:
    match = re.fullmatch(r"(.*?)(\d{4})(.*)", name)
    candidate = f"{match[1]}{int(match[2]) + 1}{match[3]}" if match else f"{name} (copy)"
    base, n = candidate, 2
    while _name_taken(candidate, None):
        candidate, n = f"{base} ({n})", n + 1
    return candidate[:60]


def copy(source: Cycle, actor: Any, name: str | None = None) -> Cycle:
    """A draft for the next year: same rules and documents, dates one year later."""
    name = (name or "").strip() or next_name(source.name)
    if _name_taken(name, None):
        raise CycleError(_l("Another cycle has this name."))
    cycle = Cycle(name=name, status=CycleStatus.DRAFT, copied_from_id=source.id,
                  reminders_sent={})
    for field in SETTINGS:
        if field != "name":
            setattr(cycle, field, getattr(source, field))
    for field in ("opens_at", "closes_at", "training_starts_on", "training_ends_on",
                  "review_starts_on", "review_ends_on"):
        setattr(cycle, field, _shift_year(getattr(source, field)))
    cycle.specialties = [Specialty(code=s.code, name=s.name, position=s.position)
                         for s in source.specialties]
    cycle.requirements = [
        DocumentRequirement(**{f: getattr(r, f) for f in REQUIREMENT_FIELDS})
        for r in source.requirements
    ]
    db.session.add(cycle)
    db.session.flush()
    record("cycle.copied", actor=actor, object_type="cycle", object_id=cycle.id,
           details={"from": source.id, "name": cycle.name})
    return cycle


def _requirement_values(data: dict[str, Any]) -> dict[str, Any]:
    values = {f: data[f] for f in REQUIREMENT_FIELDS}
    values["code"] = values["code"].strip()
    values["accepted_types"] = [t for t in ("pdf", "jpeg", "png") if t in values["accepted_types"]]
    values["position"] = values["position"] or 0
    if values["validity_rule"] == "none":
        values["validity_param"] = None
    return values


def _code_taken(cycle: Cycle, code: str, requirement_id: int | None) -> bool:
    return any(r.code == code and r.id != requirement_id for r in cycle.requirements)


def add_requirement(cycle: Cycle, data: dict[str, Any], actor: Any) -> DocumentRequirement:
    values = _requirement_values(data)
    if _code_taken(cycle, values["code"], None):
        raise CycleError(_l("Another document of this cycle has this code."))
    requirement = DocumentRequirement(**values)
    cycle.requirements.append(requirement)
    db.session.flush()
    record("cycle.requirement_added", actor=actor, object_type="cycle", object_id=cycle.id,
           details={"code": requirement.code})
    return requirement


def update_requirement(cycle: Cycle, requirement: DocumentRequirement, data: dict[str, Any],
                       actor: Any) -> None:
    values = _requirement_values(data)
    if _code_taken(cycle, values["code"], requirement.id):
        raise CycleError(_l("Another document of this cycle has this code."))
    changed = {}
    for name, value in values.items():
        if getattr(requirement, name) != value:
            setattr(requirement, name, value)
            changed[name] = value
    if changed:
        record("cycle.requirement_changed", actor=actor, object_type="cycle",
               object_id=cycle.id, details={"code": requirement.code, **changed})
    _refresh_nominations(cycle)


def delete_requirement(cycle: Cycle, requirement: DocumentRequirement, actor: Any) -> None:
    from portal.nominations.models import NominationDocument

    used = db.session.scalar(select(func.count(NominationDocument.id)).where(
        NominationDocument.requirement_id == requirement.id))
    if used:
        raise CycleError(_l("Nominations have uploaded this document; it cannot be deleted. "
                            "Make it optional instead."))
    cycle.requirements.remove(requirement)
    record("cycle.requirement_deleted", actor=actor, object_type="cycle", object_id=cycle.id,
           details={"code": requirement.code})
    _refresh_nominations(cycle)


def _refresh_nominations(cycle: Cycle) -> None:
    """Keep the stored completeness of editable nominations right after a rule changed."""
    from portal.nominations import services as nominations
    from portal.nominations.models import EDITABLE_STATES, Nomination

    db.session.flush()
    drafts = list(db.session.scalars(select(Nomination).where(
        Nomination.cycle_id == cycle.id, Nomination.state.in_(EDITABLE_STATES))))
    by_id = {n.id: n for n in drafts}
    for nomination_id, result in nominations.checklists_for(drafts).items():
        by_id[nomination_id].is_complete = result.complete
