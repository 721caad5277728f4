"""Who may set up cycles (portal/cycles): staff only, on every route."""

from __future__ import annotations

from tests.access.rules import STAFF, Rule


def build(world, factory) -> None:  # noqa: ANN001, ARG001
    from datetime import timedelta

    from portal.cycles.models import CycleStatus
    from tests.nominations.factories import make_cycle

    world.cycle_draft = make_cycle(name="FY2090", status=CycleStatus.DRAFT,
                                   opens_in=timedelta(days=30), closes_in=timedelta(days=90))
    world.cycle_to_close = make_cycle(name="FY2091", status=CycleStatus.DRAFT)
    world.cycle_requirement = world.cycle_draft.requirements[0]
    world.cycle_requirement_to_delete = world.cycle_draft.requirements[-1]


def _form(name: str) -> dict:
    return {
        "name": name, "window_timezone": "Asia/Tokyo", "opens_local": "2040-10-01T09:00",
        "closes_local": "2040-12-15T17:00", "training_starts_on": "2041-05-12",
        "training_ends_on": "2041-08-29", "retention_days": "365",
        "specialties": "cardiology: Cardiology\nradiology: Radiology",
        "prior_participation": "allowed", "consent_text": "Consent.",
    }


REQUIREMENT = {"code": "extra", "label": "Extra letter", "accepted_types": ["pdf"],
               "max_size_mb": "5", "validity_rule": "none", "sensitivity": "normal",
               "reviewer_visibility": "always",
               "required": "y", "position": "9"}


def _c(w, name="cycle_draft"):  # noqa: ANN001, ANN202
    return getattr(w, name).id


RULES: list[Rule] = [
    Rule("cycles.index", lambda w: "/admin/cycles", STAFF),
    Rule("cycles.create", lambda w: "/admin/cycles/new", STAFF),
    Rule("cycles.create", lambda w: "/admin/cycles/new", STAFF, method="POST",
         data=lambda w: _form("FY2092"), ok=(303,), mutates=True),
    Rule("cycles.edit", lambda w: f"/admin/cycles/{_c(w)}", STAFF),
    Rule("cycles.edit", lambda w: f"/admin/cycles/{_c(w)}", STAFF, method="POST",
         data=lambda w: _form("FY2090"), ok=(303,), mutates=True),
    Rule("cycles.publish", lambda w: f"/admin/cycles/{_c(w)}/publish", STAFF,
         method="POST", ok=(303,), mutates=True),
    Rule("cycles.close", lambda w: f"/admin/cycles/{_c(w, 'cycle_to_close')}/close", STAFF,
         method="POST", ok=(303,), mutates=True),
    Rule("cycles.copy", lambda w: f"/admin/cycles/{_c(w)}/copy", STAFF, method="POST",
         data=lambda w: {"name": "FY2093"}, ok=(303,), mutates=True),
    Rule("cycles.add_requirement", lambda w: f"/admin/cycles/{_c(w)}/requirements", STAFF,
         method="POST", data=lambda w: dict(REQUIREMENT), ok=(303,), mutates=True),
    Rule("cycles.edit_requirement",
         lambda w: f"/admin/cycles/{_c(w)}/requirements/{w.cycle_requirement.id}", STAFF),
    Rule("cycles.edit_requirement",
         lambda w: f"/admin/cycles/{_c(w)}/requirements/{w.cycle_requirement.id}", STAFF,
         method="POST", data=lambda w: dict(REQUIREMENT, code="cv2", label="CV"), ok=(303,),
         mutates=True),
    Rule("cycles.delete_requirement",
         lambda w: (f"/admin/cycles/{_c(w)}/requirements/"
                    f"{w.cycle_requirement_to_delete.id}/delete"),
         STAFF, method="POST", ok=(303,), mutates=True),
]
