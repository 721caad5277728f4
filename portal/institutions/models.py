"""Nominating institutions abroad (hospitals, ministries, universities, associations)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, utcnow
from portal.extensions import Model


class InstitutionKind(enum.StrEnum):
    HOSPITAL = "hospital"
    MINISTRY = "ministry"
    UNIVERSITY = "university"
    ASSOCIATION = "association"
    OTHER = "other"


class InstitutionStatus(enum.StrEnum):
    ACTIVE = "active"
    REQUESTED = "requested"  # asked through the public form, waiting for staff
    DECLINED = "declined"


class Institution(Model):
    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)  # ISO 3166-1 alpha-2
    city: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20), default=InstitutionKind.HOSPITAL)
    # Endorsements are sent to this address; only staff may change it.
    head_name: Mapped[str] = mapped_column(String(200))
    head_email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(20), default=InstitutionStatus.ACTIVE, index=True)
    # Who asked for access through the public form (empty for institutions staff created).
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_position: Mapped[str | None] = mapped_column(String(200))
    request_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL", use_alter=True)
    )
    decline_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def is_active(self) -> bool:
        return self.status == InstitutionStatus.ACTIVE
