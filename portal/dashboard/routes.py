"""Home page, the dashboard (a section per role), the language switch, /healthz."""

from __future__ import annotations

from flask import current_app, jsonify, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy import text

from portal.accounts import services as accounts
from portal.accounts.policy import current_account, viewer
from portal.config import LANGUAGES
from portal.dashboard import bp, sections  # noqa: F401  (registers the sections)
from portal.extensions import db
from portal.i18n import LANG_COOKIE
from portal.registry import sections_for
from portal.security import safe_next
from portal.storage import get_storage
from portal.transaction import discard


@bp.route("/")
def home() -> ResponseReturnValue:
    if viewer() is not None:
        return redirect(url_for("main.dashboard"))
    return render_template("home.html")


@bp.route("/dashboard")
@login_required
def dashboard() -> ResponseReturnValue:
    return render_template("dashboard/index.html", sections=sections_for(current_account()))


@bp.post("/language")
def set_language() -> ResponseReturnValue:
    """Switch language (anyone); remembered on the account and in a cookie."""
    lang = request.form.get("lang", "")
    response = make_response(redirect(safe_next(request.form.get("next"), "main.home"), 303))
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="Lax",
                            secure=current_app.config["PRODUCTION"], httponly=True)
        if (user := viewer()) is not None:
            accounts.set_language(user, lang)
    return response


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    """Database and storage reachability; names no host, key or setting."""
    checks = {}
    discard()  # nothing to keep; and a failed query below must not fail the commit
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # report, do not raise: this page exists to say what is down
        checks["database"] = "unreachable"
    try:
        get_storage().ping()
        checks["storage"] = "ok"
    except Exception:
        checks["storage"] = "unreachable"
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "degraded", **checks), 200 if ok else 503
