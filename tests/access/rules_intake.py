"""Who may use the staff intake (portal/intake): staff only, on every route.

The nominations and documents behind the URLs belong to institution A, whose nominator
is one of the viewers: even the owners of a dossier get no staff page, file or zip here
(they have their own workspace).
"""

from __future__ import annotations

from tests.access.rules import STAFF, Rule


def build(world, factory) -> None:  # noqa: ANN001, ARG001
    from sqlalchemy import select

    from portal.extensions import db
    from portal.nominations.models import NominationDocument, NominationState
    from tests.nominations.factories import make_cycle, make_nomination

    cycle = make_cycle()
    a = world.institution_a
    world.intake_nomination = make_nomination(cycle, a, state=NominationState.SUBMITTED,
                                              family_name="Accessible",
                                              documents=("passport", "photo"))
    world.intake_document = db.session.scalars(select(NominationDocument).where(
        NominationDocument.nomination_id == world.intake_nomination.id)
        .order_by(NominationDocument.id)).first()
    # Separate nominations for the state changes, so each rule finds the state it needs.
    world.intake_to_return = make_nomination(cycle, a, state=NominationState.SUBMITTED,
                                             documents=())
    world.intake_to_review = make_nomination(cycle, a, state=NominationState.SUBMITTED,
                                             documents=())


def _doc(w) -> int:  # noqa: ANN001
    return w.intake_document.id


RULES: list[Rule] = [
    Rule("intake.index", lambda w: "/staff/nominations/?sort=name", STAFF),
    Rule("intake.detail", lambda w: f"/staff/nominations/{w.intake_nomination.id}", STAFF),
    Rule("intake.download_document",
         lambda w: f"/staff/nominations/documents/{_doc(w)}/download", STAFF,
         note="local storage streams the file; S3 answers 303 to a presigned link"),
    Rule("intake.preview_document",
         lambda w: f"/staff/nominations/documents/{_doc(w)}/preview", STAFF),
    Rule("intake.dossier_zip",
         lambda w: f"/staff/nominations/{w.intake_nomination.id}/dossier.zip", STAFF),
    Rule("intake.export_zip", lambda w: "/staff/nominations/export.zip?country=MY", STAFF),
    Rule("intake.return_for_changes",
         lambda w: f"/staff/nominations/{w.intake_to_return.id}/return", STAFF,
         method="POST", data=lambda w: {"comment": "Please check the passport scan."},
         ok=(303,), mutates=True),
    Rule("intake.mark_under_review",
         lambda w: f"/staff/nominations/{w.intake_to_review.id}/under-review", STAFF,
         method="POST", ok=(303,), mutates=True),
]
