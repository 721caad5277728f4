"""Message threads about one subject (a nomination), each for one audience.

One component serves every conversation of the portal: the institution and staff about a
nomination ("institution"), the selection committee and staff about a dossier
("committee"). Who belongs to an audience, who may read and post, and how authors are
shown (a committee may be anonymous, "Reviewer B") are decided by the area that owns
the audience (portal.threads.audiences), never by this package.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, utcnow
from portal.extensions import Model


class Thread(Model):
    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("subject_type", "subject_id", "audience"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20))  # "nomination"
    subject_id: Mapped[int] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(20))  # "institution" | "committee"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Post(Model):
    __tablename__ = "thread_posts"
    __table_args__ = (Index("ix_thread_posts_thread", "thread_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The part the author spoke for ("staff", "institution", "reviewer"): how they are shown.
    author_role: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ThreadRead(Model):
    """How far one person has read one thread (unread counts, who to mail)."""

    __tablename__ = "thread_reads"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    last_read_post_id: Mapped[int] = mapped_column(Integer, default=0)
    # Mail about new posts is batched: one mail per person and thread per batch window.
    last_mailed_post_id: Mapped[int] = mapped_column(Integer, default=0)
