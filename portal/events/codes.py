"""Codes of the events area: pass codes (printed as a QR code, typed at the door) and the
keys of guests' personal links. A leaf: it reads no table and imports no service.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import segno
from flask import current_app

from portal.events.models import Registration

# No 0/O, 1/I/L or U: a code read aloud or typed from a phone screen stays unambiguous.
PASS_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # noqa: S105 (an alphabet, not a secret)
PASS_LENGTH = 12  # 30^12 ≈ 2^59 codes
GUEST_TOKEN = "event_guest"  # noqa: S105 (a token purpose, not a secret)


def new_pass_code() -> str:
    return "".join(secrets.choice(PASS_ALPHABET) for _ in range(PASS_LENGTH))


def format_pass_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalize_code(text: str | None) -> str:
    """What staff typed or the camera read: case, spaces and dashes do not matter."""
    return "".join(c for c in (text or "").upper() if c.isalnum())[:40]


def pass_qr(code: str) -> str:
    """The pass code as an inline SVG QR code."""
    return str(segno.make(code, error="q").svg_inline(scale=8, dark="#111", light="#fff"))


def new_guest_salt() -> str:
    return secrets.token_hex(8)


def guest_key(registration: Registration) -> str:
    """The secret part of a guest's personal link (see Registration.guest_salt)."""
    message = f"event-guest:{registration.id}:{registration.guest_salt}".encode()
    secret = current_app.secret_key
    raw = secret if isinstance(secret, bytes) else str(secret).encode()
    return hmac.new(raw, message, hashlib.sha256).hexdigest()[:40]


def key_matches(registration: Registration, key: str | None) -> bool:
    """Does `key` open this guest's personal page? (No salt: no personal page yet.)"""
    key = key or ""
    return registration.guest_salt is not None and key.isascii() and hmac.compare_digest(
        guest_key(registration), key)
