"""Time-based one-time passwords (RFC 6238) and recovery codes."""

from __future__ import annotations

import hashlib
import secrets
import time

import pyotp
import segno
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, update

from portal.accounts.models import RecoveryCode, User
from portal.accounts.services import tell_security_change
from portal.audit.services import record
from portal.db import rowcount, utcnow
from portal.extensions import db

ISSUER = "Medical Training Portal"
RECOVERY_CODES = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """An inline SVG QR code (no script, no external request)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#111", light="#fff")


def code_step(secret: str | None, code: str) -> int | None:
    """The time step `code` belongs to (the previous, current or next one), or None when
    it is not a code of `secret` now."""
    code = (code or "").replace(" ", "")
    if not secret or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // totp.interval
    return next((s for s in (now - 1, now, now + 1)
                 if secrets.compare_digest(totp.generate_otp(s), code)), None)


def use_code(user: User, code: str) -> bool:
    """Accept a code once: the time step it belongs to is recorded, so the same code (or
    an older one) replayed within its validity window is refused, even by a racing request.
    """
    step = code_step(user.totp_secret, code)
    if step is None:
        return False
    result = db.session.execute(
        update(User)
        .where(User.id == user.id,
               or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def _hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").lower().encode()).hexdigest()


def enable(user: User, secret: str, step: int) -> list[str]:
    """Turn the second factor on with the code of time `step` the person typed (used up:
    it does not sign in again) and return fresh recovery codes (shown once)."""
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes)
    record("account.2fa_enabled", actor=user, object_type="user", object_id=user.id)
    return codes


def disable(user: User) -> None:
    """Turn the second factor off; the person is told by mail (it may not have been them)."""
    user.totp_secret = None
    user.totp_enabled_at = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record("account.2fa_disabled", actor=user, object_type="user", object_id=user.id)
    tell_security_change(user, "two_factor_disabled", _l("Two-step sign-in was turned off"))


def refuse_code(user: User) -> None:
    """A wrong code at sign-in: recorded even though nothing else of the request is kept."""
    record("login.failed_2fa", actor=user, object_type="user", object_id=user.id, keep=True)


def use_recovery_code(user: User, code: str) -> bool:
    """Spend one recovery code; a code works once, even when two requests race."""
    result = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code or ""),
               RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1
