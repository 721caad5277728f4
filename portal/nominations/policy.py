"""Who may see and change which nominations and documents.

Query filters (`..._visible_to`) are the single source of truth: lists, fragments,
downloads and zips all start from them, so an institution can never reach another's
nominations by guessing ids. Objects a person may not know about give 404, not 403.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import Select, false, select

from portal.accounts.models import Role
from portal.cycles.models import DocumentRequirement, Sensitivity
from portal.extensions import db
from portal.nominations.models import Nomination, NominationDocument


def _is_staff(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(Role.STAFF)


def _institution_of(user: Any) -> int | None:
    if not getattr(user, "is_authenticated", False) or not user.has_role(Role.NOMINATOR):
        return None
    return user.institution_id


def nominations_visible_to(user: Any) -> Select[tuple[Nomination]]:
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


def get_visible_nomination_or_404(user: Any, nomination_id: int, *options: Any) -> Nomination:
    """The nomination if `user` may see it, else 404 (its existence stays a secret)."""
    query = nominations_visible_to(user).where(Nomination.id == nomination_id)
    if options:
        query = query.options(*options)
    nomination = db.session.scalars(query).first()
    if nomination is None:
        abort(404)
    return nomination


def documents_visible_to(user: Any) -> Select[tuple[NominationDocument]]:
    """Staff: every document; a nominator: their institution's; reviewers never see
    sensitive documents (passport, health), whatever later rules add."""
    query = select(NominationDocument)
    if _is_staff(user):
        return query
    institution_id = _institution_of(user)
    if institution_id is not None:
        return query.join(Nomination, Nomination.id == NominationDocument.nomination_id).where(
            Nomination.institution_id == institution_id)
    if getattr(user, "is_authenticated", False) and user.has_role(Role.REVIEWER):
        # Assigned documents come with the selection work; sensitive ones never.
        return (
            query.join(DocumentRequirement,
                       DocumentRequirement.id == NominationDocument.requirement_id)
            .where(DocumentRequirement.sensitivity != Sensitivity.SENSITIVE)
            .where(false())
        )
    return query.where(false())


def may_view(user: Any, nomination: Nomination) -> bool:
    if _is_staff(user):
        return True
    return _institution_of(user) == nomination.institution_id


def may_edit(user: Any, nomination: Nomination) -> bool:
    """A nominator of the owning institution, while the nomination is a draft or returned.

    Staff do not edit candidate facts (they return the nomination for changes instead).
    """
    return (
        _institution_of(user) is not None
        and _institution_of(user) == nomination.institution_id
        and nomination.editable
    )


def may_submit(user: Any, nomination: Nomination) -> bool:
    return may_edit(user, nomination)


def may_withdraw(user: Any, nomination: Nomination) -> bool:
    from portal.nominations.models import NominationState

    return (
        _institution_of(user) == nomination.institution_id
        and _institution_of(user) is not None
        and nomination.state not in {
            NominationState.WITHDRAWN, NominationState.ACCEPTED, NominationState.REJECTED,
        }
    )
