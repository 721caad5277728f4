"""Every setting of the portal, read from PORTAL_* environment variables.

Defaults suit the embedded mode (SQLite + files under uploads/, no other service). The
README's settings table is generated from SETTINGS below, so this is the one place to add
a setting.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str  # Flask config key; the environment variable is PORTAL_<name>
    default: Any
    help: str
    kind: type = str
    secret: bool = False


SETTINGS: list[Setting] = [
    Setting("SECRET_KEY", None, "Signs sessions and tokens. Required in production; the "
            "embedded mode keeps a random one in instance/secret_key.", secret=True),
    Setting("PRODUCTION", False, "Production flag: refuses demo data and a missing "
            "SECRET_KEY, sets Secure cookies and HSTS.", bool),
    Setting("DATABASE_URL", f"sqlite:///{PROJECT_ROOT / 'instance' / 'portal.db'}",
            "SQLAlchemy URL, e.g. postgresql+psycopg://user@host/portal."),
    Setting("STORAGE", "local", "File storage backend: local or s3."),
    Setting("STORAGE_LOCAL_ROOT", str(PROJECT_ROOT / "uploads"), "Folder of the local backend."),
    Setting("S3_BUCKET", "portal", "S3 bucket."),
    Setting("S3_ENDPOINT_URL", "", "S3 endpoint the server talks to (empty: AWS)."),
    Setting("S3_PUBLIC_ENDPOINT_URL", "", "Endpoint used in presigned download URLs given "
            "to browsers (empty: same as S3_ENDPOINT_URL)."),
    Setting("S3_REGION", "us-east-1", "S3 region."),
    Setting("S3_ACCESS_KEY_ID", "", "S3 access key.", secret=True),
    Setting("S3_SECRET_ACCESS_KEY", "", "S3 secret key.", secret=True),
    Setting("S3_CREATE_BUCKET", False, "Create the bucket at start if missing.", bool),
    Setting("SMTP_HOST", "", "SMTP server; empty keeps mail in the outbox for staff to read."),
    Setting("SMTP_PORT", 25, "SMTP port.", int),
    Setting("SMTP_USERNAME", "", "SMTP user.", secret=True),
    Setting("SMTP_PASSWORD", "", "SMTP password.", secret=True),
    Setting("SMTP_STARTTLS", False, "Use STARTTLS.", bool),
    Setting("SMTP_SSL", False, "Use implicit TLS (port 465).", bool),
    Setting("MAIL_FROM", "Medical Training Program <no-reply@example.org>", "Sender address."),
    Setting("MAIL_MAX_ATTEMPTS", 8, "Send attempts before a mail is marked failed.", int),
    Setting("REDIS_URL", "", "Redis for the job queue and the rate-limit store; empty: "
            "jobs run in-process after the commit and limits are kept in memory."),
    Setting("BASE_URL", "http://127.0.0.1:5000", "Public address used in e-mailed links."),
    Setting("TRUSTED_HOSTS", "", "Comma-separated host names accepted (empty: any)."),
    Setting("PROXY_FIX", 0, "Number of proxies in front (sets ProxyFix); 0: none.", int),
    Setting("IDLE_TIMEOUT_MINUTES", 30, "Sign out after this long without a request.", int),
    Setting("SESSION_HOURS", 12, "Longest session, idle or not.", int),
    Setting("REQUIRE_2FA_STAFF", False, "Staff must enrol a second factor.", bool),
    Setting("LOGIN_LIMIT", "5 per minute;10 per 10 minutes;20 per hour;50 per day",
            "Failed sign-ins (and wrong current passwords, wrong second-factor codes) per "
            "account from one address; each further limit is a longer wait (Flask-Limiter "
            "syntax, separated by ';')."),
    Setting("LOGIN_ACCOUNT_LIMIT", "30 per hour;100 per day", "Failed sign-ins per account "
            "from all addresses together: the ceiling when one account is tried from many."),
    Setting("LOGIN_ADDRESS_LIMIT", "100 per hour", "Failed sign-ins per address, whatever "
            "the accounts: high, since a hospital's staff share one address."),
    Setting("TOKEN_HOURS", 2, "Life of password-reset links.", int),
    Setting("INVITE_DAYS", 7, "Life of invitation links.", int),
    Setting("DEFAULT_TIMEZONE", "Asia/Tokyo", "Time zone when none is known."),
    Setting("PROGRAM_TIMEZONE", "Asia/Tokyo", "The program's own zone (Japan time): shown "
            "beside every deadline, and the zone a new cycle's window is entered in."),
    Setting("CONFIRM_LINK_DAYS", 21, "Life of the one-time links that ask the head of an "
            "institution to endorse and the candidate to consent.", int),
    Setting("CONFIRM_LINK_LIMIT", "30 per minute", "Answers per IP to endorsement and "
            "consent links (public pages)."),
    Setting("CONFIRM_REQUESTS_PER_DAY", 5, "Endorsement (and, separately, consent) links "
            "one nomination may send in 24 hours.", int),
    Setting("REQUEST_MAX_KB", 512, "Largest request body (KB) of every request but uploads, "
            "which have limits of their own: a larger one is refused with 413 from its "
            "Content-Length before it is read (set the proxy's limit, e.g. nginx "
            "client_max_body_size, to the largest upload plus 1 MB).", int),
    Setting("UPLOAD_CHUNK_MB", 5, "Nomination documents above this size (MB) go up in "
            "resumable parts; smaller ones in one request.", int),
    Setting("UPLOAD_FORM_OVERHEAD_KB", 64, "Room (KB) on top of a document's size limit for "
            "the rest of its upload form; a larger request is refused (413) before it is "
            "read.", int),
    Setting("UPLOADS_UNFINISHED_MAX", 10, "Unfinished resumable uploads one person may "
            "have at a time.", int),
    Setting("ALUMNI_INVITES_PER_MINUTE", 30, "Alumni account invitations sent per minute "
            "by a bulk invitation.", int),
    Setting("ALUMNI_INVITE_COOLDOWN_DAYS", 5, "Days before the same alumnus can be invited "
            "again.", int),
    Setting("REQUEST_ACCESS_LIMIT", "5 per hour", "Requests for institution access per IP."),
    Setting("FORGOT_PASSWORD_LIMIT", "5 per hour", "Password-reset requests per IP."),
    Setting("PASSWORD_RESET_MAIL_LIMIT", "3 per hour;10 per day", "Password-reset mails "
            "per account address, whoever asks (more requests are answered the same way, "
            "without a mail)."),
    Setting("ACCESS_REQUEST_MAIL_LIMIT", "2 per day", "Mails that confirm a request for "
            "institution access, per contact address (more requests still reach staff)."),
    Setting("SECOND_FACTOR_LIMIT", "10 per 5 minutes", "Second-factor codes tried per IP "
            "(per account and address: LOGIN_LIMIT; per account: LOGIN_ACCOUNT_LIMIT)."),
    Setting("EMBEDDED_SCHEDULER", True, "In the embedded mode (no REDIS_URL, not "
            "PRODUCTION), `flask run` also runs the periodic work (`flask jobs tick`) once a "
            "minute in a thread; production runs the tick from cron or a systemd timer.",
            bool),
    Setting("ALUMNI_IMPORT_MAX_MB", 5, "Largest spreadsheet (CSV or XLSX) staff may import "
            "as alumni records, in MB.", int),
    Setting("EVENT_MATERIAL_MAX_MB", 25, "Largest event material staff may upload (MB).", int),
    Setting("EVENT_GUEST_LIMIT", "10 per hour", "Guest registration requests per IP address "
            "(Flask-Limiter syntax; several limits separated by ';')."),
    Setting("EVENT_GUEST_MAIL_LIMIT", "3 per hour;10 per day", "Mails to one guest address "
            "(confirmation links, the personal link again), whoever asks; more requests are "
            "answered the same way, without a mail."),
    Setting("EVENT_GUEST_LINK_HOURS", 48, "Life of the link a guest confirms a registration "
            "with.", int),
    Setting("CERTIFICATE_CHECK_LIMIT", "60 per minute", "Public certificate checks per IP "
            "address."),
    Setting("EVENT_REMINDER_DAYS", 2, "Days before an event its reminder goes to seat "
            "holders.", int),
    Setting("REVIEW_REMINDER_DAYS", "7,1", "Days before review closes that reviewers with "
            "reviews left are reminded (comma-separated; each reminder is sent once)."),
    Setting("EVENT_FOLLOW_UP_DAYS", 30, "Events that ended longer ago than this get no "
            "certificate mail (e.g. imported history).", int),
    Setting("REVIEW_PREVIEW_HOURS", 2, "Life of an automatic review-assignment preview: "
            "applying an older one is refused and staff run the preview again.", int),
    Setting("THREAD_MAIL_BATCH_MINUTES", 15, "Discussion posts are mailed in batches: a "
            "person gets at most one mail per thread in this many minutes, listing every "
            "post they have not read.", int),
    Setting("THREAD_POST_MAX_CHARS", 5000, "Longest message in a discussion thread "
            "(characters).", int),
    Setting("REVIEW_COMMENT_MAX_CHARS", 20000, "Longest comment of a review, to the "
            "committee or to the applicant (characters).", int),
]

_TRUE = {"1", "true", "yes", "on"}


def _parse(setting: Setting, raw: str) -> bool | int | str:
    if setting.kind is bool:
        return raw.strip().lower() in _TRUE
    if setting.kind is int:
        return int(raw)
    return raw


def load(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Settings from the environment, then overrides (tests pass theirs here)."""
    values: dict[str, Any] = {}
    for s in SETTINGS:
        raw = os.environ.get(f"PORTAL_{s.name}")
        values[s.name] = s.default if raw is None else _parse(s, raw)
    values.update(overrides or {})
    return values


def flask_config(values: dict[str, Any]) -> dict[str, Any]:
    """Translate portal settings into what Flask and its extensions read."""
    production = values["PRODUCTION"]
    redis = values["REDIS_URL"]
    return {
        "SQLALCHEMY_DATABASE_URI": values["DATABASE_URL"],
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_NAME": "portal_session",
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=values["SESSION_HOURS"]),
        # Every request's limit is set before its body is read (portal.web.body_limit);
        # this is the default for anything that reads a body outside a view.
        "MAX_CONTENT_LENGTH": values["REQUEST_MAX_KB"] * 1024,
        "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session, which has its own lifetime
        "RATELIMIT_STORAGE_URI": redis or "memory://",
        "RATELIMIT_HEADERS_ENABLED": False,
        "RATELIMIT_STRATEGY": "moving-window",
        # Every limit of a view is checked, so a refusal knows the longest wait it owes.
        "RATELIMIT_FAIL_ON_FIRST_BREACH": False,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        "TRUSTED_HOSTS": [h.strip() for h in values["TRUSTED_HOSTS"].split(",") if h.strip()]
        or None,
    }


def secret_key(values: dict[str, Any], instance_path: Path) -> str:
    """The configured key; in the embedded mode a random one kept on disk."""
    if values["SECRET_KEY"]:
        return values["SECRET_KEY"]
    if values["PRODUCTION"]:
        raise RuntimeError("PORTAL_SECRET_KEY must be set when PORTAL_PRODUCTION is on")
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


LANGUAGES = {"en": "English", "ja": "日本語"}


def settings_table() -> str:
    """The README's settings table (`python -m portal.config`)."""
    rows = ["| Variable | Default | What it does |", "| --- | --- | --- |"]
    for s in SETTINGS:
        default = s.default
        if isinstance(default, str) and str(PROJECT_ROOT) in default:
            default = default.replace(str(PROJECT_ROOT), "<project>")
        shown = "(random, kept in instance/)" if s.name == "SECRET_KEY" else f"`{default}`"
        if default in ("", None) and s.name != "SECRET_KEY":
            shown = "(empty)"
        rows.append(f"| `PORTAL_{s.name}` | {shown} | {s.help} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
