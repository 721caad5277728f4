"""Who may use the foundation's routes (home, sign-in, accounts, institutions, admin).

The objects behind the URLs are built in tests/access/world.py. One-time links point at
real, valid tokens: whoever holds the link may use it, so they are public.
"""

from __future__ import annotations

import itertools

from tests.access.rules import EVERYONE, SIGNED_IN, STAFF, Rule
from tests.conftest import TEST_PASSWORD

NOMINATORS = frozenset({"nominator", "other_nominator"})
_n = itertools.count(1)


def _fresh_email(prefix: str) -> str:
    # Each allowed viewer invites someone new, so every one of them gets the normal answer.
    return f"{prefix}{next(_n)}@new.access.example.org"


def _institution_fields(w) -> dict:  # noqa: ANN001
    a = w.institution_a
    return {"name": a.name, "country": a.country, "city": a.city, "timezone": a.timezone,
            "kind": a.kind, "head_name": a.head_name, "head_email": a.head_email}


def _access_request(_w) -> dict:  # noqa: ANN001
    return {"name": f"Asking Hospital {next(_n)}", "country": "TH", "city": "Bangkok",
            "timezone": "Asia/Bangkok", "kind": "hospital", "head_name": "Dr. Head",
            "head_email": "head@asking.example.org", "contact_name": "Asker",
            "contact_position": "Clerk", "contact_email": _fresh_email("asker"),
            "message": ""}


RULES: list[Rule] = [
    # --- public pages -------------------------------------------------------------------
    Rule("main.home", lambda w: "/", EVERYONE, ok=(200, 302),
         note="signed-in people are sent to their dashboard"),
    Rule("main.healthz", lambda w: "/healthz", EVERYONE),
    Rule("main.set_language", lambda w: "/language", EVERYONE, method="POST",
         data=lambda w: {"lang": "en", "next": "/"}, ok=(303,)),
    Rule("main.dashboard", lambda w: "/dashboard", SIGNED_IN),
    Rule("institutions.request_access", lambda w: "/request-access", EVERYONE),
    Rule("institutions.request_access", lambda w: "/request-access", EVERYONE,
         method="POST", data=_access_request, ok=(303,)),
    Rule("institutions.request_sent", lambda w: "/request-access/sent", EVERYONE),

    # --- signing in ---------------------------------------------------------------------
    Rule("auth.login", lambda w: "/login", EVERYONE, ok=(200, 302)),
    Rule("auth.login", lambda w: "/login", EVERYONE, method="POST",
         data=lambda w: {"email": w.spare_person.email, "password": "wrong password"},
         ok=(302, 401), note="401 for a wrong password; signed-in people are sent on"),
    Rule("auth.second_factor", lambda w: "/login/verify", EVERYONE, ok=(303,),
         note="without a password step first, back to the sign-in page"),
    Rule("auth.second_factor", lambda w: "/login/verify", EVERYONE, method="POST",
         data=lambda w: {"code": "123456"}, ok=(303,)),
    Rule("auth.forgot_password", lambda w: "/password/forgot", EVERYONE),
    Rule("auth.forgot_password", lambda w: "/password/forgot", EVERYONE, method="POST",
         data=lambda w: {"email": "nobody@access.example.org"}, ok=(303,)),
    Rule("auth.reset_password", lambda w: f"/password/reset/{w.reset_token}", EVERYONE),
    Rule("auth.reset_password", lambda w: f"/password/reset/{w.reset_token}", EVERYONE,
         method="POST", data=lambda w: {"password": "a-new-password-1", "confirm": "other"},
         ok=(422,), note="a form error; the link stays unused"),
    Rule("auth.reset_password", lambda w: "/password/reset/not-a-token", EVERYONE,
         ok=(410,)),
    Rule("auth.accept_invitation", lambda w: f"/invitation/{w.invite_token}", EVERYONE),
    Rule("auth.accept_invitation", lambda w: f"/invitation/{w.invite_token}", EVERYONE,
         method="POST", data=lambda w: {"password": "a-new-password-1", "confirm": "other"},
         ok=(422,)),
    Rule("auth.accept_invitation", lambda w: "/invitation/not-a-token", EVERYONE, ok=(410,)),

    # --- one's own account --------------------------------------------------------------
    Rule("accounts.profile", lambda w: "/account", SIGNED_IN),
    Rule("accounts.profile", lambda w: "/account", SIGNED_IN, method="POST",
         data=lambda w: {"name": "Access Viewer", "language": "en", "timezone": ""},
         ok=(303,)),
    Rule("auth.change_password", lambda w: "/account/password", SIGNED_IN),
    Rule("auth.change_password", lambda w: "/account/password", SIGNED_IN, method="POST",
         data=lambda w: {"current": TEST_PASSWORD, "password": "a-new-password-1",
                         "confirm": "does not match"},
         ok=(422,), note="a form error: argon2 twice per viewer would be slow; "
         "tests/foundation/test_sessions.py changes passwords for real"),
    Rule("auth.two_factor", lambda w: "/account/2fa", SIGNED_IN),
    Rule("auth.two_factor_setup", lambda w: "/account/2fa/setup", SIGNED_IN, method="POST",
         ok=(303,)),
    Rule("auth.two_factor_enable", lambda w: "/account/2fa/enable", SIGNED_IN,
         method="POST", data=lambda w: {"code": "000000"}, ok=(303,),
         note="a wrong code: back to the enrolment page"),
    Rule("auth.two_factor_disable", lambda w: "/account/2fa/disable", SIGNED_IN,
         method="POST", data=lambda w: {}, ok=(303,)),
    Rule("accounts.colleagues", lambda w: "/institution/people", NOMINATORS),
    Rule("accounts.colleagues", lambda w: "/institution/people", NOMINATORS, method="POST",
         data=lambda w: {"name": "New Colleague", "email": _fresh_email("colleague"),
                         "language": "en"}, ok=(303,)),

    # --- staff: people ------------------------------------------------------------------
    Rule("accounts.people", lambda w: "/admin/people", STAFF),
    Rule("accounts.invite", lambda w: "/admin/people/invite", STAFF),
    Rule("accounts.invite", lambda w: "/admin/people/invite", STAFF, method="POST",
         data=lambda w: {"name": "New Reviewer", "email": _fresh_email("reviewer"),
                         "roles": "reviewer", "institution_id": "0", "language": "en"},
         ok=(303,)),
    Rule("accounts.person", lambda w: f"/admin/people/{w.nominator.id}", STAFF),
    Rule("accounts.person", lambda w: f"/admin/people/{w.spare_person.id}", STAFF,
         method="POST", data=lambda w: {"roles": "reviewer"}, ok=(303,)),
    Rule("accounts.deactivate", lambda w: f"/admin/people/{w.spare_person.id}/deactivate",
         STAFF, method="POST", ok=(303,), mutates=True),
    Rule("accounts.reactivate", lambda w: f"/admin/people/{w.spare_person.id}/reactivate",
         STAFF, method="POST", ok=(303,), mutates=True),

    # --- staff: institutions ------------------------------------------------------------
    Rule("institutions.index", lambda w: "/admin/institutions", STAFF),
    Rule("institutions.create", lambda w: "/admin/institutions/new", STAFF),
    Rule("institutions.create", lambda w: "/admin/institutions/new", STAFF, method="POST",
         data=lambda w: {**_institution_fields(w), "name": "Created In Access Test"},
         ok=(303,)),
    Rule("institutions.show", lambda w: f"/admin/institutions/{w.institution_a.id}", STAFF),
    Rule("institutions.show", lambda w: f"/admin/institutions/{w.institution_a.id}", STAFF,
         method="POST", data=_institution_fields, ok=(303,),
         note="only staff change the head's e-mail (where endorsements go)"),
    Rule("institutions.approve",
         lambda w: f"/admin/institutions/{w.access_request.id}/approve", STAFF,
         method="POST", ok=(303,), mutates=True),
    Rule("institutions.decline",
         lambda w: f"/admin/institutions/{w.access_request_to_decline.id}/decline", STAFF,
         method="POST", data=lambda w: {"reason": "Not a medical institution."}, ok=(303,),
         mutates=True),

    # --- staff: outbox and audit log ----------------------------------------------------
    Rule("admin.outbox", lambda w: "/admin/outbox", STAFF),
    Rule("admin.outbox_message", lambda w: f"/admin/outbox/{w.held_message.id}", STAFF),
    Rule("admin.outbox_release", lambda w: f"/admin/outbox/{w.held_message.id}/release",
         STAFF, method="POST", ok=(303,), mutates=True),
    Rule("admin.outbox_retry", lambda w: f"/admin/outbox/{w.failed_message.id}/retry",
         STAFF, method="POST", ok=(303,), mutates=True),
    Rule("admin.audit", lambda w: "/admin/audit", STAFF),

    # Signing out ends only the viewer's own session (the world stays as it is): the
    # inventory runs it after everything else.
    Rule("auth.logout", lambda w: "/logout", EVERYONE, method="POST", ok=(303,)),
]
