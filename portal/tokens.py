"""Single-use, short-lived tokens for links sent by e-mail (reset, invitation, consent...).

Only a hash is stored, so a database leak gives no working link. Using a token is one
conditional UPDATE, so two clicks on the same link cannot both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, rowcount, utcnow
from portal.extensions import Model, db


class OneTimeToken(Model):
    __tablename__ = "one_time_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(30))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    purpose: str, *, lifetime: timedelta, user_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> str:
    """Create a token row and return the secret that goes into the link (never stored)."""
    secret = secrets.token_urlsafe(32)
    db.session.add(OneTimeToken(
        purpose=purpose, token_hash=_hash(secret), user_id=user_id,
        payload=payload or {}, expires_at=utcnow() + lifetime,
    ))
    return secret


def peek(purpose: str, secret: str) -> OneTimeToken | None:
    """The token if it is valid now, without using it (to show the form behind a link)."""
    return db.session.scalars(
        select(OneTimeToken).where(
            OneTimeToken.token_hash == _hash(secret or ""),
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
            OneTimeToken.expires_at > utcnow(),
        )
    ).first()


def consume(purpose: str, secret: str) -> OneTimeToken | None:
    """Use the token: returns it once; every later or concurrent call gets None."""
    now = utcnow()
    result = db.session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.token_hash == _hash(secret or ""),
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
            OneTimeToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return None
    return db.session.scalars(
        select(OneTimeToken).where(OneTimeToken.token_hash == _hash(secret))
    ).one()


def revoke_for_user(user_id: int, purpose: str) -> None:
    """Older links of this kind stop working when a new one is sent or the account changes."""
    db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.user_id == user_id, OneTimeToken.purpose == purpose,
               OneTimeToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def revoke_all_for_user(user_id: int) -> None:
    """Every open link of this person stops working (a password was set, by whatever
    route: an older invitation or reset link would set it again and end their sessions)."""
    db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.user_id == user_id, OneTimeToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
