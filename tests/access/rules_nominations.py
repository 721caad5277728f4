"""Who may use the nomination workspace (portal/nominations).

The nominations behind the URLs belong to institution A: its nominator works on them,
staff may look (read-only here; they act in the intake), institution B's nominator and
everyone else get nothing (404 for B, who may not learn they exist). The one-time links
for the head of the institution and the candidate are public: the secret is the key.
"""

from __future__ import annotations

import io

from tests.access.rules import EVERYONE, Rule

OWN = frozenset({"nominator"})
OWN_AND_STAFF = frozenset({"nominator", "staff"})
NOMINATORS = frozenset({"nominator", "other_nominator"})


def build(world, factory) -> None:  # noqa: ANN001, ARG001
    from datetime import timedelta

    from portal import tokens
    from portal.extensions import db
    from portal.nominations import uploads
    from portal.nominations.confirmations import PURPOSES
    from portal.nominations.models import Confirmation, NominationState
    from tests.nominations.factories import make_cycle, make_nomination, pdf_bytes

    a = world.institution_a
    cycle = make_cycle()
    world.nom_cycle = cycle
    world.nom_requirement = cycle.requirements[0]
    world.nom_draft = make_nomination(cycle, a, user=world.nominator, family_name="Accessdraft")
    world.nom_to_submit = make_nomination(cycle, a, user=world.nominator)
    world.nom_to_remove = make_nomination(cycle, a, user=world.nominator)
    world.nom_submitted = make_nomination(cycle, a, user=world.nominator,
                                          state=NominationState.SUBMITTED)
    world.nom_to_withdraw = make_nomination(cycle, a, user=world.nominator,
                                            state=NominationState.SUBMITTED)
    # Resumable uploads in three stages: one to ask about, one for a (5-byte) part, one
    # complete and waiting to be finished, one to abandon. One is active per document
    # (issue 12, point 6), so each is for another requirement than nom_requirement's, which
    # the chunk_start rule uses.
    draft = world.nom_draft
    cv, passport, health, photo = cycle.requirements[1:5]
    world.nom_upload_status = uploads.start_chunked(
        draft, passport, filename="a.pdf", size=9_000_000, fingerprint="status", actor=None)
    world.nom_upload_part = uploads.start_chunked(
        draft, health, filename="b.pdf", size=5, fingerprint="part", actor=None)
    data = pdf_bytes()
    world.nom_upload_complete = uploads.start_chunked(
        draft, cv, filename="c.pdf", size=len(data), fingerprint="complete", actor=None)
    uploads.put_part(world.nom_upload_complete, 1, io.BytesIO(data))
    world.nom_upload_abort = uploads.start_chunked(
        draft, photo, filename="d.jpg", size=500_000, fingerprint="abort", actor=None)
    # One-time links (the secret is what the head or candidate gets by e-mail).
    world.nom_links = {}
    for kind, email in (("endorsement", a.head_email), ("consent", "candidate@a.test")):
        for use in ("view", "answer"):
            row = Confirmation(nomination_id=world.nom_to_remove.id, kind=kind, email=email)
            db.session.add(row)
            db.session.flush()
            world.nom_links[(kind, use)] = tokens.issue(
                PURPOSES[kind], lifetime=timedelta(days=1), payload={"confirmation_id": row.id})
    # Only the latest request of a kind may be answered: point both at the latest row.
    for kind in ("endorsement", "consent"):
        latest = db.session.query(Confirmation).filter_by(kind=kind).order_by(
            Confirmation.id.desc()).first()
        for token in db.session.query(tokens.OneTimeToken).filter_by(purpose=PURPOSES[kind]):
            token.payload = {"confirmation_id": latest.id}
    db.session.commit()


def _n(w, name="nom_draft"):  # noqa: ANN001, ANN202
    return getattr(w, name).id


def _doc_url(w, name="nom_draft", suffix=""):  # noqa: ANN001, ANN202
    return f"/nominations/{_n(w, name)}/documents/{w.nom_requirement.id}{suffix}"


def _up(w, name, suffix=""):  # noqa: ANN001, ANN202
    return f"/nominations/{_n(w)}/uploads/{getattr(w, name).id}{suffix}"


RULES: list[Rule] = [
    Rule("nominations.index", lambda w: "/nominations", NOMINATORS,
         note="each nominator sees their own institution's overview"),
    Rule("nominations.create", lambda w: "/nominations/new", NOMINATORS, method="POST",
         data=lambda w: {"cycle_id": w.nom_cycle.id}, ok=(303,), mutates=True,
         note="a draft for the nominator's own institution"),
    Rule("nominations.show", lambda w: f"/nominations/{_n(w)}", OWN_AND_STAFF),
    Rule("nominations.panel", lambda w: f"/nominations/{_n(w)}/panel", OWN_AND_STAFF),
    Rule("nominations.edit", lambda w: f"/nominations/{_n(w)}/edit", OWN),
    Rule("nominations.save_section", lambda w: f"/nominations/{_n(w)}/sections/contact",
         OWN, method="POST", data=lambda w: {"contact-email": "candidate@example.org"}, ok=(303,),
         mutates=True),
    Rule("nominations.submit", lambda w: f"/nominations/{_n(w, 'nom_to_submit')}/submit",
         OWN, method="POST", ok=(303,), mutates=True),
    Rule("nominations.withdraw",
         lambda w: f"/nominations/{_n(w, 'nom_to_withdraw')}/withdraw", OWN),
    Rule("nominations.withdraw",
         lambda w: f"/nominations/{_n(w, 'nom_to_withdraw')}/withdraw", OWN, method="POST",
         data=lambda w: {"reason": "Access test"}, ok=(303,), mutates=True),
    Rule("nominations.request_confirmation",
         lambda w: f"/nominations/{_n(w)}/confirmations/endorsement", OWN, method="POST",
         ok=(303,), mutates=True),
    Rule("nominations.document_row", lambda w: _doc_url(w), OWN_AND_STAFF),
    Rule("nominations.download_document", lambda w: _doc_url(w, suffix="/file"),
         OWN_AND_STAFF),
    Rule("nominations.upload", lambda w: _doc_url(w), OWN, method="POST", ok=(303,),
         mutates=True, note="no file sent: the page says to choose one"),
    Rule("nominations.remove_document",
         lambda w: _doc_url(w, "nom_to_remove", "/remove"), OWN, method="POST", ok=(303,),
         mutates=True),
    Rule("nominations.chunk_start", lambda w: _doc_url(w, suffix="/uploads"), OWN,
         method="POST", data=lambda w: {"filename": "big.pdf", "size": "7000000"},
         ok=(201,), mutates=True),
    Rule("nominations.chunk_status", lambda w: _up(w, "nom_upload_status"), OWN),
    Rule("nominations.chunk_part", lambda w: _up(w, "nom_upload_part", "/parts/1"), OWN,
         method="PUT", data=lambda w: {"x": "abc"}, mutates=True,
         note="the form-encoded body 'x=abc' is exactly the announced 5 bytes"),
    Rule("nominations.chunk_complete", lambda w: _up(w, "nom_upload_complete", "/complete"),
         OWN, method="POST", mutates=True),
    Rule("nominations.chunk_abort", lambda w: _up(w, "nom_upload_abort", "/abort"), OWN,
         method="POST", ok=(204,), mutates=True),
    Rule("nominations.endorse",
         lambda w: f"/confirm/endorsement/{w.nom_links[('endorsement', 'view')]}", EVERYONE,
         note="public: the unguessable secret in the link is the key"),
    Rule("nominations.endorse",
         lambda w: f"/confirm/endorsement/{w.nom_links[('endorsement', 'answer')]}", EVERYONE,
         method="POST", data=lambda w: {"decision": "granted"}, ok=(200, 410), mutates=True,
         note="the first answer is recorded; the spent link then answers 410"),
    Rule("nominations.consent",
         lambda w: f"/confirm/consent/{w.nom_links[('consent', 'view')]}", EVERYONE),
    Rule("nominations.consent",
         lambda w: f"/confirm/consent/{w.nom_links[('consent', 'answer')]}", EVERYONE,
         method="POST", data=lambda w: {"decision": "granted"}, ok=(200, 410), mutates=True),
]
