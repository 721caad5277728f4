"""Where a confirmation request or answer came from: the network address and a keyed
hash of the browser session (issue 12, point 2).

Sessions live in signed cookies and have no id of their own, so the first request that
needs one puts a random value into the session (it is cleared with the session, at
login and logout). The database keeps only an HMAC of it under the secret key: enough
to see that the nominator who asked and the person who answered used the same browser,
useless for taking over a session. Routes read the origin here and pass it to the
services as plain values.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app, session

from portal.audit.services import client_ip

SESSION_KEY = "browser"


@dataclass(frozen=True)
class Origin:
    ip: str | None = None
    session: str | None = None  # hex HMAC of the browser session's random value


def browser_session() -> str:
    """The keyed hash of this browser session (a random value is put in it first)."""
    value = session.get(SESSION_KEY)
    if not isinstance(value, str) or not value:
        value = session[SESSION_KEY] = secrets.token_urlsafe(18)
    key = str(current_app.secret_key or "").encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def request_origin() -> Origin:
    """The current request's origin (for routes)."""
    return Origin(ip=client_ip(), session=browser_session())
