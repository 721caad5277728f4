"""People who sign in, and the roles they hold."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, utcnow
from portal.extensions import Model
from portal.roles import Role

__all__ = ["ColleagueInvitation", "RecoveryCode", "Role", "User", "UserRole",
           "new_session_token"]


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased; the unique index makes one account per address.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Part of the login cookie: changing it ends every session of this user at once.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Time step of the last code accepted: a code works once (no replay in its window).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    institution = relationship("Institution", lazy="raise", foreign_keys=[institution_id])
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # --- flask-login protocol ---
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    # --- roles ---
    @property
    def roles(self) -> set[Role]:
        return {Role(r.role) for r in self.role_rows}

    def has_role(self, *roles: Role | str) -> bool:
        mine = {r.role for r in self.role_rows}
        return any(str(r) in mine for r in roles)

    @property
    def is_staff(self) -> bool:
        return self.has_role(Role.STAFF)

    @property
    def has_2fa(self) -> bool:
        return self.totp_enabled_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserRole(Model):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="role_rows")


class RecoveryCode(Model):
    """One-time second-factor codes; only a hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)



class ColleagueConflict(enum.StrEnum):
    """Why a nominator's invitation of a colleague made no account (staff look at it)."""

    COLLEAGUE = "colleague"  # already a nominator of the same institution
    OTHER_INSTITUTION = "other_institution"  # a nominator of another institution
    OTHER_ROLES = "other_roles"  # an account with other roles (reviewer, alumnus, staff)
    DEACTIVATED = "deactivated"


class ColleagueInvitation(Model):
    """A nominator invited a colleague. The nominator sees the same row whatever the address
    is; when an account already uses it, no account is made or changed (`conflict` says
    why) and staff see it on the institution's page."""

    __tablename__ = "colleague_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The account the invitation made (none when there was a conflict).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    conflict: Mapped[str | None] = mapped_column(String(20))
    conflict_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
