"""Posting to and reading message threads, what each person has not read yet, and the
batched mail about new posts.

Access is the audience's business (portal.threads.Audience, registered by the area that
owns it): every function here asks the audience whether this person may read or post,
and an audience nobody registered answers nothing (404). Authors are shown to each reader
as the audience says (a committee may be anonymous: "Reviewer B").

Mail about new posts is batched per person and thread: a person is mailed once the oldest
post they have neither read nor been mailed about is THREAD_MAIL_BATCH_MINUTES old, and
the mail lists every such post. A mail covers every post up to its moment, so the next one
needs a later post that has waited the window in turn: at most one mail per person and
thread per window, and a burst of replies arrives as one mail. Posts the person read on
the page are never mailed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.audit.services import record
from portal.db import rowcount, utcnow
from portal.errors import NotYours, Refused
from portal.extensions import db
from portal.i18n import local_dt
from portal.notify.services import queue_mail
from portal.threads import AUDIENCES, Audience
from portal.threads.models import Post, Thread, ThreadRead

SUBJECT = "nomination"  # what threads are about (the only subject so far)
# Threads whose last post is older than this are not looked at by the mail job again.
MAIL_HORIZON = timedelta(days=7)


class ThreadError(Refused):
    """A post refused (empty, too long, not allowed here)."""


@dataclass(frozen=True)
class ShownPost:
    id: int
    author: str  # as the audience shows the author to this reader
    role: str  # the part the author spoke for ("staff", "reviewer", ...)
    body: str
    created_at: datetime
    mine: bool
    unread: bool


@dataclass(frozen=True)
class ThreadView:
    """One thread as one reader sees it."""

    audience: str
    subject_id: int
    posts: list[ShownPost]
    may_post: bool
    unread: int
    max_chars: int


def audience_of(name: str) -> Audience:
    found = AUDIENCES.get(name)
    if found is None:
        raise NotYours()
    return found


def max_chars() -> int:
    return int(current_app.config["THREAD_POST_MAX_CHARS"])


def find_thread(audience: str, subject_id: int) -> Thread | None:
    return db.session.scalar(select(Thread).where(
        Thread.subject_type == SUBJECT, Thread.subject_id == subject_id,
        Thread.audience == audience))


def _thread(audience: str, subject_id: int) -> Thread:
    """The thread, made on the first post (two first posts at once: one row)."""
    found = find_thread(audience, subject_id)
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            thread = Thread(subject_type=SUBJECT, subject_id=subject_id, audience=audience)
            db.session.add(thread)
    except IntegrityError:  # another request made it since
        found = find_thread(audience, subject_id)
        assert found is not None
        return found
    return thread


def post(audience: str, subject_id: int, author: User, body: str) -> Post:
    """Add `author`'s post to the thread; the author has read everything up to it."""
    owner = audience_of(audience)
    if not owner.may_read(author, subject_id):
        raise NotYours()
    if not owner.may_post(author, subject_id):
        raise ThreadError(_l("You cannot write in this discussion."))
    text = (body or "").strip()
    if not text:
        raise ThreadError(_l("Write a message first."))
    if len(text) > max_chars():
        raise ThreadError(_l("A message may have at most %(n)d characters.", n=max_chars()))
    thread = _thread(audience, subject_id)
    now = utcnow()
    message = Post(thread_id=thread.id, author_id=author.id,
                   author_role=owner.role_of(author, subject_id), body=text, created_at=now)
    db.session.add(message)
    db.session.flush()
    db.session.execute(update(Thread).where(Thread.id == thread.id)
                       .values(last_post_at=now))
    mark_read(thread.id, author.id, message.id)
    record("thread.posted", actor=author, object_type="thread", object_id=thread.id,
           details={"audience": audience, "subject_id": subject_id, "post_id": message.id})
    return message


def _labels(owner: Audience, posts: Sequence[Post], reader: User,
            subject_id: int) -> dict[tuple[int | None, str], str]:
    """How each author is shown to `reader`: one call per author, not per post."""
    ids = {p.author_id for p in posts if p.author_id is not None}
    authors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} \
        if ids else {}
    labels: dict[tuple[int | None, str], str] = {}
    for p in posts:
        key = (p.author_id, p.author_role)
        if key not in labels:
            author = authors.get(p.author_id) if p.author_id is not None else None
            labels[key] = owner.author_label(p, author, reader, subject_id)
    return labels


def view(audience: str, subject_id: int, reader: User, *,
         mark: bool = True) -> ThreadView:
    """The thread as `reader` may see it (404 if they may not); `mark`: they have now
    read every post shown."""
    owner = audience_of(audience)
    if not owner.may_read(reader, subject_id):
        raise NotYours()
    # Most audiences let readers post: one check then.
    may_post = True if owner.may_post is owner.may_read else owner.may_post(reader, subject_id)
    thread = find_thread(audience, subject_id)
    if thread is None:
        return ThreadView(audience, subject_id, [], may_post, 0, max_chars())
    posts = list(db.session.scalars(select(Post).where(Post.thread_id == thread.id)
                                    .order_by(Post.id)))
    read_up_to = db.session.scalar(select(ThreadRead.last_read_post_id).where(
        ThreadRead.thread_id == thread.id, ThreadRead.user_id == reader.id)) or 0
    labels = _labels(owner, posts, reader, subject_id)
    shown = [ShownPost(id=p.id, author=labels[(p.author_id, p.author_role)],
                       role=p.author_role, body=p.body, created_at=p.created_at,
                       mine=p.author_id == reader.id,
                       unread=p.id > read_up_to and p.author_id != reader.id)
             for p in posts]
    unread = sum(1 for p in shown if p.unread)
    if mark and posts and posts[-1].id > read_up_to:
        mark_read(thread.id, reader.id, posts[-1].id)
    return ThreadView(audience, subject_id, shown, may_post, unread, max_chars())


def mark_read(thread_id: int, user_id: int, post_id: int) -> None:
    """`user_id` has read the thread up to `post_id` (never moves back)."""
    result = db.session.execute(
        update(ThreadRead).where(ThreadRead.thread_id == thread_id,
                                 ThreadRead.user_id == user_id,
                                 ThreadRead.last_read_post_id < post_id)
        .values(last_read_post_id=post_id))
    if rowcount(result):
        return
    exists = db.session.scalar(select(ThreadRead.id).where(
        ThreadRead.thread_id == thread_id, ThreadRead.user_id == user_id))
    if exists is not None:
        return  # read further already
    try:
        with db.session.begin_nested():
            db.session.add(ThreadRead(thread_id=thread_id, user_id=user_id,
                                      last_read_post_id=post_id, last_mailed_post_id=0))
    except IntegrityError:  # made by a request at the same moment
        mark_read(thread_id, user_id, post_id)


def unread_counts(audience: str, subject_ids: Sequence[int], reader: User) -> dict[int, int]:
    """Posts `reader` has not read, per subject, in one query. The caller passes only
    subjects the reader may read (e.g. from the reviewer's own queue)."""
    if not subject_ids:
        return {}
    last_read = func.coalesce(ThreadRead.last_read_post_id, 0)
    rows = db.session.execute(
        select(Thread.subject_id, func.count(Post.id))
        .join(Post, Post.thread_id == Thread.id)
        .outerjoin(ThreadRead, (ThreadRead.thread_id == Thread.id)
                   & (ThreadRead.user_id == reader.id))
        .where(Thread.subject_type == SUBJECT, Thread.audience == audience,
               Thread.subject_id.in_(list(subject_ids)), Post.id > last_read,
               (Post.author_id != reader.id) | Post.author_id.is_(None))
        .group_by(Thread.subject_id)).all()
    return {subject_id: n for subject_id, n in rows}


# -- batched mail -------------------------------------------------------------------------

@contextmanager
def _links() -> Iterator[None]:
    """A request context on the public address, so links can be built in the tick."""
    if has_request_context():
        yield
        return
    base = current_app.config["BASE_URL"].rstrip("/")
    # A writing method, so the SQLite begin hook keeps its write lock semantics.
    with current_app.test_request_context("/", base_url=base, method="POST"):
        yield


def batch_window() -> timedelta:
    return timedelta(minutes=int(current_app.config["THREAD_MAIL_BATCH_MINUTES"]))


def _claim(thread_id: int, user_id: int, found: ThreadRead | None, up_to: int) -> bool:
    """Record that `user_id` is mailed about posts up to `up_to`; False when another run
    did it first (a conditional UPDATE, or the UNIQUE constraint for a new row)."""
    if found is None:
        try:
            with db.session.begin_nested():
                db.session.add(ThreadRead(thread_id=thread_id, user_id=user_id,
                                          last_read_post_id=0, last_mailed_post_id=up_to))
        except IntegrityError:
            return False
        return True
    result = db.session.execute(
        update(ThreadRead).where(ThreadRead.id == found.id,
                                 ThreadRead.last_mailed_post_id == found.last_mailed_post_id)
        .values(last_mailed_post_id=up_to))
    return rowcount(result) == 1


def _mail_thread(thread: Thread, owner: Audience, now: datetime) -> int:
    posts = list(db.session.scalars(select(Post).where(Post.thread_id == thread.id)
                                    .order_by(Post.id)))
    if not posts:
        return 0
    members = owner.members(thread.subject_id)
    reads = {r.user_id: r for r in db.session.scalars(select(ThreadRead).where(
        ThreadRead.thread_id == thread.id,
        ThreadRead.user_id.in_([m.id for m in members])))} if members else {}
    due_before = now - batch_window()
    sent = 0
    for member in members:
        found = reads.get(member.id)
        seen = max(found.last_read_post_id, found.last_mailed_post_id) if found else 0
        new = [p for p in posts if p.id > seen and p.author_id != member.id]
        if not new or new[0].created_at > due_before or not member.active:
            continue
        if not owner.may_read(member, thread.subject_id):
            continue
        if not _claim(thread.id, member.id, found, posts[-1].id):
            continue
        language = member.language or "en"
        zone = member.timezone or str(current_app.config["DEFAULT_TIMEZONE"])
        with force_locale(language):
            labels = _labels(owner, new, member, thread.subject_id)
            shown = [{"author": labels[(p.author_id, p.author_role)], "body": p.body,
                      "when": local_dt(p.created_at, "short", zone)} for p in new]
            subject = owner.subject_label(thread.subject_id, member)
        queue_mail(member.email, "thread_posts",
                   subject=_l("New messages in the discussion of %(subject)s",
                              subject=subject),
                   language=language, name=member.name, subject_label=subject,
                   posts=shown, link=owner.link(thread.subject_id, member))
        sent += 1
    return sent


def send_due(now: datetime | None = None) -> int:
    """Mail every person whose batch of new posts is due (the periodic tick). Returns how
    many mails were queued."""
    now = now or utcnow()
    threads = list(db.session.scalars(select(Thread).where(
        Thread.last_post_at.is_not(None), Thread.last_post_at >= now - MAIL_HORIZON)
        .order_by(Thread.id)))
    sent = 0
    with _links():
        for thread in threads:
            owner = AUDIENCES.get(thread.audience)
            if owner is not None:
                sent += _mail_thread(thread, owner, now)
    return sent
