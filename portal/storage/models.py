"""Database records of stored files and of chunked uploads in progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, utcnow
from portal.extensions import Model

_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


class Blob(Model):
    """One stored file. Other tables point here; the storage key is never shown."""

    __tablename__ = "blobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Set when a retention purge removed the file: the row remains as the record that
    # it existed (name, size, hash, who and when).
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def download_name(self) -> str:
        """The original name with the extension of what is really stored (an image
        named .jpeg or .PNG, or re-encoded, gets the extension of its actual type)."""
        ext = _EXTENSIONS.get(self.content_type, "")
        stem = self.original_name
        if "." in stem:
            stem = stem.rsplit(".", 1)[0]
        return (stem or "file") + ext

    def __repr__(self) -> str:
        return f"<Blob {self.id} {self.key}>"


class PendingUpload(Model):
    """A resumable (chunked) upload in progress: its state lives here and in the storage,
    never in a worker's memory, so any worker can take the next part."""

    __tablename__ = "pending_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    upload_id: Mapped[str] = mapped_column(String(1024), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(255))
    total_size: Mapped[int] = mapped_column(BigInteger)
    next_part: Mapped[int] = mapped_column(Integer, default=1)
    part_size: Mapped[int] = mapped_column(Integer)
    # [[part number, token], ...]. JSON columns do not see in-place changes: assign a
    # new list (parts = [*parts, [n, token]]) to have it saved.
    parts: Mapped[list[list]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The sweep judges abandonment by this, so a slow upload over days is kept alive.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<PendingUpload {self.id} {self.key} part {self.next_part}>"
