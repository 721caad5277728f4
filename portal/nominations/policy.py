"""Who may see and change which nominations and documents.

Query filters (`..._visible_to`) are the single source of truth for seeing: lists,
fragments, downloads and zips all start from them, so an institution can never reach
another's nominations by guessing ids. Objects a person may not know about give 404, not
403.

What a person may do to a nomination comes from the lifecycle table: `actor_roles` says
as whom someone acts on one nomination (staff, the owning institution), and the table
says which moves those roles may make from its state. The predicates below, the buttons
they show and the workflow's checks therefore always agree.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, false, select
from sqlalchemy.orm.interfaces import ORMOption

from portal.accounts.models import Role, User
from portal.cycles.models import DocumentRequirement, Sensitivity
from portal.extensions import db
from portal.lifecycle import INSTITUTION, STAFF, SYSTEM
from portal.nominations.lifecycle import EDITABLE_STATES, NOMINATION
from portal.nominations.models import Nomination, NominationDocument


def _signed_in(user: User | None) -> bool:
    return user is not None and bool(user.is_authenticated)


def _is_staff(user: User | None) -> bool:
    return _signed_in(user) and user is not None and user.has_role(Role.STAFF)


def _institution_of(user: User | None) -> int | None:
    if user is None or not _signed_in(user) or not user.has_role(Role.NOMINATOR):
        return None
    return user.institution_id


def actor_roles(user: User | None, nomination: Nomination) -> frozenset[str]:
    """As whom `user` acts on this nomination, in the lifecycle table's terms: staff as
    STAFF, a nominator of the owning institution as INSTITUTION, the portal itself (no
    user: a job, a command) as SYSTEM. Anyone else holds no role on it: a nominator of
    another institution, a reviewer (assignments come with the selection work), an
    alumnus."""
    if user is None:
        return frozenset({SYSTEM})
    roles: set[str] = set()
    if _is_staff(user):
        roles.add(STAFF)
    institution_id = _institution_of(user)
    if institution_id is not None and institution_id == nomination.institution_id:
        roles.add(INSTITUTION)
    return frozenset(roles)


def may(user: User | None, nomination: Nomination, move: str) -> bool:
    """May `user` make `move` (a name in the lifecycle table) on this nomination now?"""
    return NOMINATION.may(nomination.state, move, actor_roles(user, nomination))


def submit_move(nomination: Nomination) -> str:
    """The move that submitting makes from the nomination's state: a returned nomination
    (or one resubmitted already) is resubmitted, any other is submitted."""
    resubmit = NOMINATION.sources("resubmit") | NOMINATION.targets("resubmit")
    return "resubmit" if nomination.state in resubmit else "submit"


def nominations_visible_to(user: User | None) -> Select[tuple[Nomination]]:
    """Staff: every nomination; a nominator: their institution's; anyone else: none.

    Reviewers see nothing here yet: the selection work widens this with assignments.
    """
    query = select(Nomination)
    if _is_staff(user):
        return query
    institution_id = _institution_of(user)
    if institution_id is not None:
        return query.where(Nomination.institution_id == institution_id)
    return query.where(false())


def get_visible_nomination_or_404(user: User | None, nomination_id: int,
                                  *options: ORMOption) -> Nomination:
    """The nomination if `user` may see it, else 404 (its existence stays a secret)."""
    query = nominations_visible_to(user).where(Nomination.id == nomination_id)
    if options:
        query = query.options(*options)
    nomination = db.session.scalars(query).first()
    if nomination is None:
        abort(404)
    return nomination


def documents_visible_to(user: User | None) -> Select[tuple[NominationDocument]]:
    """Staff: every document; a nominator: their institution's; reviewers never see
    sensitive documents (passport, health), whatever later rules add."""
    query = select(NominationDocument)
    if _is_staff(user):
        return query
    institution_id = _institution_of(user)
    if institution_id is not None:
        return query.join(Nomination, Nomination.id == NominationDocument.nomination_id).where(
            Nomination.institution_id == institution_id)
    if _signed_in(user) and user is not None and user.has_role(Role.REVIEWER):
        # Assigned documents come with the selection work; sensitive ones never.
        return (
            query.join(DocumentRequirement,
                       DocumentRequirement.id == NominationDocument.requirement_id)
            .where(DocumentRequirement.sensitivity != Sensitivity.SENSITIVE)
            .where(false())
        )
    return query.where(false())


def may_edit(user: User | None, nomination: Nomination) -> bool:
    """The owning institution, while the nomination is one it may still (re)submit.

    Staff do not edit candidate facts (they return the nomination for changes instead).
    """
    return (INSTITUTION in actor_roles(user, nomination)
            and nomination.state in EDITABLE_STATES)


def may_submit(user: User | None, nomination: Nomination) -> bool:
    """Whether the submit button shows: the table's submit (or resubmit) move."""
    return may(user, nomination, submit_move(nomination))


def may_withdraw(user: User | None, nomination: Nomination) -> bool:
    """The owning institution, from every state the table lets it withdraw from (an
    accepted nomination included: withdrawing will be how an offer is declined)."""
    return may(user, nomination, "withdraw")
