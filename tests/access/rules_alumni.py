"""Access rules of the alumni area (portal/alumni): every route, who may use it."""

from __future__ import annotations

import io
import json
from typing import Any

from portal.alumni.models import AlumniInvitation, InvitationStatus
from portal.db import utcnow
from portal.extensions import db
from tests.access.rules import STAFF, Rule

ALUMNI = frozenset({"alumnus", "other_alumnus"})
MAPPING = ["family_name", "given_names", "cycle_year", "country"]
NOBODY = "zz-matches-no-record"
CSV = b"Surname,Given names,Year,Country\nSrisuk,Anan,2005,TH\n"


def _profile(world: Any) -> dict:
    # Invalid on purpose (unknown zone): the form answers 422 and changes nothing, so the
    # alumni records other areas' rules rely on (country, specialty) stay as built.
    return {"position": "Physician", "country": "TH", "timezone": "Nowhere/Atlantis",
            "language": "en"}


def _record(world: Any) -> dict:
    return {"family_name": "Access", "country": "TH", "language": "en"}


RULES: list[Rule] = [
    Rule("alumni.profile", lambda w: "/alumni/profile", ALUMNI),
    Rule("alumni.profile", lambda w: "/alumni/profile", ALUMNI, method="POST", data=_profile,
         ok=(422,), note="always the viewer's own record; invalid data, nothing saved"),
    Rule("alumni.directory", lambda w: "/alumni/directory", ALUMNI | STAFF),
    Rule("alumni.staff_index", lambda w: "/admin/alumni", STAFF),
    Rule("alumni.staff_new", lambda w: "/admin/alumni/new", STAFF),
    Rule("alumni.staff_new", lambda w: "/admin/alumni/new", STAFF, method="POST",
         data=_record, ok=(303,)),
    Rule("alumni.staff_edit", lambda w: f"/admin/alumni/{w.alumni_record.id}", STAFF),
    Rule("alumni.staff_edit", lambda w: f"/admin/alumni/{w.alumni_spare.id}", STAFF,
         method="POST", data=_record, ok=(303,)),
    Rule("alumni.staff_merge", lambda w: f"/admin/alumni/{w.alumni_spare.id}/merge"
         f"?other_id={w.alumni_duplicate.id}", STAFF),
    Rule("alumni.staff_merge", lambda w: f"/admin/alumni/{w.alumni_spare.id}/merge", STAFF,
         method="POST", data=lambda w: {"other_id": w.alumni_duplicate.id}, ok=(303,),
         mutates=True),
    Rule("alumni.staff_decide_changes", lambda w: f"/admin/alumni/{w.alumni_asking.id}/changes",
         STAFF, method="POST", data=lambda w: {"decision": "decline"}, ok=(303,),
         mutates=True, note="a country the alumnus asked for; declined"),
    Rule("alumni.staff_confirm_account",
         lambda w: f"/admin/alumni/{w.alumni_held.id}/account", STAFF, method="POST",
         ok=(303,), mutates=True,
         note="a record whose address an unlinked account uses (invitation held)"),
    Rule("alumni.staff_from_cycle", lambda w: "/admin/alumni/from-cycle", STAFF),
    Rule("alumni.staff_from_cycle", lambda w: "/admin/alumni/from-cycle", STAFF,
         method="POST", data=lambda w: {"cycle_id": w.alumni_cycle.id}, ok=(303,),
         mutates=True),
    Rule("alumni.staff_invite", lambda w: "/admin/alumni/invite?country=TH", STAFF),
    Rule("alumni.staff_invite", lambda w: f"/admin/alumni/invite?q={NOBODY}", STAFF,
         method="POST", data=lambda w: {}, ok=(303,), mutates=True,
         note="a filter nobody matches: invites nobody into the shared world"),
    Rule("alumni.staff_invitations", lambda w: "/admin/alumni/invitations", STAFF),
    Rule("alumni.import_upload", lambda w: "/admin/alumni/import", STAFF),
    Rule("alumni.import_upload", lambda w: "/admin/alumni/import", STAFF, method="POST",
         data=lambda w: {"file": (io.BytesIO(CSV), "alumni.csv"), "encoding": "auto"},
         ok=(303,), note="stages the file; imports nothing"),
    Rule("alumni.import_map", lambda w: f"/admin/alumni/import/columns?file="
         f"{w.alumni_import_token}", STAFF),
    Rule("alumni.import_map", lambda w: f"/admin/alumni/import/columns?file="
         f"{w.alumni_import_token}", STAFF, method="POST",
         data=lambda w: {f"col_{i}": t for i, t in enumerate(MAPPING)},
         note="dry run: shows the preview, saves nothing"),
    Rule("alumni.import_run", lambda w: "/admin/alumni/import/run", STAFF, method="POST",
         data=lambda w: {"file": w.alumni_import_token, "mapping": json.dumps(MAPPING)},
         ok=(303,), mutates=True),
]


def build(world: Any, factory: Any) -> None:
    """Records of both alumni (left as built: other areas use them), a spare record to
    edit and merge a duplicate into, a finished cycle, a staged import."""
    from portal.alumni.import_routes import stage_file
    from tests.alumni import factories

    world.alumni_record = factories.alumnus(user_id=world.alumnus.id, email=world.alumnus.email,
                                            country="TH")
    world.other_alumni_record = factories.alumnus(user_id=world.other_alumnus.id,
                                                  email=world.other_alumnus.email,
                                                  country="VN")
    world.alumni_spare = factories.alumnus(family_name="Spare", email=None, country="LA")
    world.alumni_duplicate = factories.alumnus(family_name="Spare", email=None, country="LA")
    world.alumni_asking = factories.alumnus(family_name="Asking", email=None, country="LA",
                                            requested_country="KH",
                                            change_requested_at=utcnow())
    holder = factory.reviewer(email="held.match@access.example.org")
    world.alumni_held = factories.alumnus(family_name="Held", email=holder.email)
    db.session.add(AlumniInvitation(alumnus_id=world.alumni_held.id, email=holder.email,
                                    status=InvitationStatus.HELD))
    world.alumni_cycle, _ = factories.finished_cycle(factory, accepted=1, others=0)
    world.alumni_import_token = stage_file(CSV, "alumni.csv", "auto", world.staff.id)
