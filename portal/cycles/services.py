"""Cycles: create, edit, publish, close, copy; specialties and document requirements.

Services check everything before they change anything, so a refusal leaves the cycle as
it was whatever the caller does next; they never commit (the request does). What higher
areas keep of a cycle (nominations choosing a specialty, files uploaded for a document)
is asked through portal.cycles.hooks.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.audit.services import record
from portal.cycles import hooks
from portal.cycles.forms import parse_specialties
from portal.cycles.models import Cycle, CycleStatus, DocumentRequirement, Specialty
from portal.errors import Refused
from portal.extensions import db

SETTINGS = (
    "name", "window_timezone", "training_starts_on", "training_ends_on",
    "retention_days", "seats_total", "seats_per_country",
    "seats_per_institution", "max_submissions_per_institution", "max_submissions_per_country",
    "min_experience_years", "max_experience_years", "min_age", "max_age",
    "english_evidence_required", "prior_participation", "endorsement_required", "consent_text",
)
REQUIREMENT_FIELDS = ("code", "label", "help_text", "required", "accepted_types",
                      "max_size_mb", "validity_rule", "validity_param", "sensitivity",
                      "position", "reviewer_visibility", "anonymised")


class CycleError(Refused):
    """A refused change of a cycle; its message is shown to staff (translated)."""


def list_cycles() -> tuple[list[Cycle], dict[int, int]]:
    """Every cycle, newest first, with how many nominations each has."""
    cycles = list(db.session.scalars(select(Cycle).order_by(Cycle.opens_at.desc())))
    return cycles, hooks.counts()


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


def _check_name(name: str, cycle_id: int | None) -> None:
    if _name_taken(name, cycle_id):
        raise CycleError(_l("Another cycle has this name."))


def apply(cycle: Cycle, data: dict[str, Any]) -> dict[str, Any]:
    """Copy the form's values (checked already); returns what changed."""
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


def _check_specialties(cycle: Cycle, wanted: list[tuple[str, str]]) -> None:
    """A specialty something points at (a nomination chose it) cannot be removed."""
    codes = {code for code, _name in wanted}
    for specialty in cycle.specialties:
        if specialty.code not in codes and specialty.id is not None \
                and hooks.specialty_used(specialty.id):
            raise CycleError(_l("Specialty %(code)s is chosen by nominations; it cannot be "
                                "removed.", code=specialty.code))


def set_specialties(cycle: Cycle, wanted: list[tuple[str, str]]) -> None:
    """Keep a specialty that stays (nominations point at it), add new, drop removed ones
    (checked by `_check_specialties` first)."""
    existing = {s.code: s for s in cycle.specialties}
    for position, (code, name) in enumerate(wanted):
        specialty = existing.pop(code, None)
        if specialty is None:
            cycle.specialties.append(Specialty(code=code, name=name, position=position))
        else:
            specialty.name, specialty.position = name, position
    for specialty in existing.values():
        cycle.specialties.remove(specialty)


def create(data: dict[str, Any], actor: User | None) -> Cycle:
    _check_name(data["name"], None)
    wanted = parse_specialties(data.get("specialties") or "")
    cycle = Cycle(status=CycleStatus.DRAFT, reminders_sent={})
    apply(cycle, data)
    db.session.add(cycle)
    set_specialties(cycle, wanted)
    db.session.flush()
    record("cycle.created", actor=actor, object_type="cycle", object_id=cycle.id,
           details={"name": cycle.name})
    return cycle


def update(cycle: Cycle, data: dict[str, Any], actor: User | None) -> None:
    _check_name(data["name"], cycle.id)
    wanted = parse_specialties(data.get("specialties") or "")
    _check_specialties(cycle, wanted)
    changed = apply(cycle, data)
    set_specialties(cycle, wanted)
    db.session.flush()
    if changed:
        record("cycle.changed", actor=actor, object_type="cycle", object_id=cycle.id,
               details=changed)


def publish(cycle: Cycle, actor: User | None) -> None:
    if cycle.status == CycleStatus.PUBLISHED:
        return
    if not cycle.requirements:
        raise CycleError(_l("Add the documents the cycle asks for before publishing it."))
    if not cycle.specialties:
        raise CycleError(_l("Add at least one specialty before publishing the cycle."))
    cycle.status = CycleStatus.PUBLISHED
    record("cycle.published", actor=actor, object_type="cycle", object_id=cycle.id)


def close(cycle: Cycle, actor: User | None) -> None:
    cycle.status = CycleStatus.CLOSED
    record("cycle.closed", actor=actor, object_type="cycle", object_id=cycle.id)


D = TypeVar("D", date, datetime)


def _shift_year(value: D) -> D:
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


def copy(source: Cycle, actor: User | None, name: str | None = None) -> Cycle:
    """A draft for the next year: same rules and documents, dates one year later."""
    name = (name or "").strip() or next_name(source.name)
    if _name_taken(name, None):
        raise CycleError(_l("Another cycle has this name."))
    cycle = Cycle(name=name, status=CycleStatus.DRAFT, copied_from_id=source.id,
                  reminders_sent={})
    for field in SETTINGS:
        if field != "name":
            setattr(cycle, field, getattr(source, field))
    for field in ("opens_at", "closes_at", "training_starts_on", "training_ends_on"):
        value = getattr(source, field)
        setattr(cycle, field, None if value is None else _shift_year(value))
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


def add_requirement(cycle: Cycle, data: dict[str, Any], actor: User | None,
                    ) -> DocumentRequirement:
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
                       actor: User | None) -> None:
    values = _requirement_values(data)
    if _code_taken(cycle, values["code"], requirement.id):
        raise CycleError(_l("Another document of this cycle has this code."))
    changed: dict[str, Any] = {}
    for name, value in values.items():
        if getattr(requirement, name) != value:
            setattr(requirement, name, value)
            changed[name] = value
    if changed:
        record("cycle.requirement_changed", actor=actor, object_type="cycle",
               object_id=cycle.id, details={"code": requirement.code, **changed})
    _rules_changed(cycle)


def delete_requirement(cycle: Cycle, requirement: DocumentRequirement, actor: User | None,
                       ) -> None:
    if hooks.requirement_used(requirement.id):
        raise CycleError(_l("Nominations have uploaded this document; it cannot be deleted. "
                            "Make it optional instead."))
    cycle.requirements.remove(requirement)
    record("cycle.requirement_deleted", actor=actor, object_type="cycle", object_id=cycle.id,
           details={"code": requirement.code})
    _rules_changed(cycle)


def _rules_changed(cycle: Cycle) -> None:
    """Derived data of the areas that use the cycle follows its document rules."""
    db.session.flush()
    hooks.rules_changed(cycle)
