"""Message threads about a subject, each for one audience (portal.threads.models).

The area that owns an audience registers it once, at import: who may read and post, who
is mailed about new posts, how an author is shown to a given reader (a committee may be
anonymous: "Reviewer B"), and the page that shows the thread. This package then stores
posts, counts what each person has not read, and mails new posts in batches; it never
decides access by itself, and an audience nobody registered answers nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from portal.jobs import register_periodic

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.threads.models import Post


@dataclass(frozen=True)
class Audience:
    name: str  # "committee", "institution"
    # (reader, subject id) -> may this person read / post in the thread?
    may_read: Callable[[User, int], bool]
    may_post: Callable[[User, int], bool]
    # (author, subject id) -> the part they speak for: "staff", "institution", "reviewer"
    role_of: Callable[[User, int], str]
    # (subject id) -> the people told about new posts (mail, batched)
    members: Callable[[int], list[User]]
    # (post, its author or None, reader, subject id) -> how the author is shown to reader
    author_label: Callable[[Post, User | None, User, int], str]
    # (subject id, reader) -> what the thread is about, safe to show that reader (blind)
    subject_label: Callable[[int, User], str]
    # (subject id, reader) -> the URL of the page that shows the thread to that reader
    link: Callable[[int, User], str]


AUDIENCES: dict[str, Audience] = {}


def register_audience(audience: Audience) -> None:
    AUDIENCES[audience.name] = audience


# New posts are mailed in batches per person and thread (portal.threads.services).
register_periodic("thread-mail", "portal.threads.services.send_due")
