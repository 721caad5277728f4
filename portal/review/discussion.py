"""The committee's discussion of a dossier: a thread (portal.threads) for the audience
"committee".

Readers and posters: program staff, and reviewers who may open the dossier
(review.policy.assignments_visible_to: assigned, not conflicted, terms accepted,
decisions not published) and have submitted their own review of it, so nobody reads the
others' opinions before forming their own. Mailed about new posts (in batches): those
reviewers, and staff who took part in the thread.

Authors are shown as "Reviewer A", "Reviewer B"... (letters stable per dossier: the order
in which reviewers were assigned), with their names when the cycle shows reviewers'
names to each other; staff always see the names. What the thread is about is named by
review.blind's label, so a blind candidate stays "Candidate N-..." in pages and mails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import exists, select

from portal.accounts.models import User
from portal.accounts.services import external_url
from portal.extensions import db
from portal.nominations.models import Nomination
from portal.review import policy
from portal.review.blind import candidate_label
from portal.review.models import Assignment, Review, ReviewSetup, ReviewStatus
from portal.threads import Audience, register_audience
from portal.threads.models import Post, Thread

AUDIENCE = "committee"
T = TypeVar("T")


def _per_request(name: str, key: int, compute: Callable[[], T]) -> T:
    """`compute()` once per request (a page labels each author of a thread, and the
    others' reviews, from the same letters). Outside a request: every time."""
    if not has_request_context():
        return compute()
    store = cast(dict[tuple[str, int], Any],
                 request.environ.setdefault("portal.review.discussion", {}))
    if (name, key) not in store:
        store[(name, key)] = compute()
    return cast(T, store[(name, key)])


def letter(n: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA ..."""
    text = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        text = chr(ord("A") + rest) + text
    return text


def reviewer_letters(nomination_id: int) -> dict[int, str]:
    """{reviewer id: letter} for every reviewer ever assigned to the dossier, in the order
    of assignment (so a letter never changes when someone is removed)."""
    def compute() -> dict[int, str]:
        ids = db.session.scalars(select(Assignment.reviewer_id)
                                 .where(Assignment.nomination_id == nomination_id)
                                 .order_by(Assignment.id))
        return {reviewer_id: letter(i) for i, reviewer_id in enumerate(ids)}
    return _per_request("letters", nomination_id, compute)


def reviewer_name(letters: dict[int, str], reviewer_id: int) -> str:
    return _("Reviewer %(letter)s", letter=letters.get(reviewer_id, "?"))


def _setup(nomination_id: int) -> ReviewSetup | None:
    return _per_request("setup", nomination_id, lambda: db.session.scalar(
        select(ReviewSetup).join(Nomination, Nomination.cycle_id == ReviewSetup.cycle_id)
        .where(Nomination.id == nomination_id)))


def may_read(user: User, nomination_id: int) -> bool:
    if policy.is_staff(user):
        return db.session.get(Nomination, nomination_id) is not None
    return db.session.execute(
        policy.assignments_visible_to(user)
        .where(Assignment.nomination_id == nomination_id,
               exists().where(Review.assignment_id == Assignment.id,
                              Review.status == ReviewStatus.SUBMITTED))
        .limit(1)).first() is not None


def role_of(user: User, nomination_id: int) -> str:
    return "staff" if policy.is_staff(user) else "reviewer"


def members(nomination_id: int) -> list[User]:
    """Who is mailed about new posts: reviewers who may read the thread, and staff who
    wrote in it."""
    candidates = list(db.session.scalars(
        select(User).join(Assignment, Assignment.reviewer_id == User.id)
        .where(Assignment.nomination_id == nomination_id).order_by(Assignment.id)))
    staff = db.session.scalars(
        select(User).join(Post, Post.author_id == User.id)
        .join(Thread, Thread.id == Post.thread_id)
        .where(Thread.subject_id == nomination_id, Thread.audience == AUDIENCE,
               Post.author_role == "staff").distinct())
    found: dict[int, User] = {}
    for user in [*candidates, *staff]:
        if user.id not in found and user.active and may_read(user, nomination_id):
            found[user.id] = user
    return list(found.values())


def author_label(post: Post, author: User | None, reader: User, nomination_id: int) -> str:
    if author is None:
        return _("A former member of the committee")
    reader_is_staff = policy.is_staff(reader)
    if post.author_role == "staff":
        return _("%(name)s (program staff)", name=author.name) if reader_is_staff \
            else _("Program staff")
    shown = reviewer_name(reviewer_letters(nomination_id), author.id)
    setup = _setup(nomination_id)
    if reader_is_staff or (setup is not None and setup.others_named):
        shown = f"{shown} ({author.name})"
    if author.id == reader.id:
        return _("You (%(name)s)", name=shown)
    return shown


def subject_label(nomination_id: int, reader: User) -> str:
    nomination = db.session.get(Nomination, nomination_id)
    if nomination is None:
        return ""
    if policy.is_staff(reader):
        name = nomination.candidate_name
        return f"{nomination.reference} {name}".strip()
    return candidate_label(nomination, _setup(nomination_id))


def link(nomination_id: int, reader: User) -> str:
    if policy.is_staff(reader):
        return external_url("review.staff_discussion", nomination_id=nomination_id)
    return external_url("review.workspace", nomination_id=nomination_id,
                        _anchor="discussion")


register_audience(Audience(name=AUDIENCE, may_read=may_read, may_post=may_read,
                           role_of=role_of, members=members, author_label=author_label,
                           subject_label=subject_label, link=link))
