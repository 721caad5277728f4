"""Nothing a blind cycle hides reaches a reviewer, by any answer of the portal.

The world: a blind cycle (name, native name, institution, photo and date of birth hidden)
whose candidates carry distinctive values for every hidden fact, and for the facts never
shown to reviewers (e-mail, phone, passport number); their files were uploaded under
names carrying the candidate's name, their PDFs carry it in /Title, /Author, XMP, the
outline and a comment's author, the CV that is not anonymised names the candidate on its
page, and the photo is a recognisable image.

The test signs in as an assigned reviewer who has submitted one review (so others'
reviews and the discussion are open to them), then requests every GET endpoint of the
review blueprint (found in app.url_map, so routes added later are covered without
touching this file) with every URL the world can build, as a page, as an htmx fragment
and as JSON, and searches each answer: headers (Content-Disposition decoded), bodies
(HTML unescaped, JSON decoded), zips member by member (names and contents), PDFs (raw
bytes, metadata, XMP and page text), spreadsheets, and every mail in the outbox addressed
to a reviewer. None of the hidden values may appear.

When an endpoint takes a URL argument this file cannot fill, the test fails and names it:
extend `world_values()` (or EXTRA_URLS). An endpoint a reviewer may use that answers
nothing but errors fails too: its content was not seen, so the world must give it what it
needs. Mails: MAIL_TRIGGERS make the portal queue every mail reviewers get (queue ready,
reminders, dossiers returned, resubmitted or withdrawn, discussion posts); add one for
each new kind.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import io
import itertools
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from babel.dates import format_date
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select
from werkzeug.routing import AnyConverter, Rule

from portal.accounts.models import Role
from portal.db import utcnow
from portal.exports import to_xlsx
from portal.extensions import db
from portal.nominations.demo import make_jpeg, make_pdf
from portal.nominations.models import Nomination, NominationDocument
from portal.notify.models import OutboxMessage
from portal.storage.models import Blob
from portal.threads.models import Post, Thread
from tests.nominations.factories import add_document, requirement, store_blob
from tests.review.documents_factories import pdf_naming, raw_strings
from tests.review.factories import BLIND_ALL, ReviewCycle, make_review_cycle

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

FAMILY = "Quixleworth"
GIVEN = "Oriabel Maranth"
NATIVE = "奎克斯沃思"
INSTITUTIONS = ("Saint Vexley Hospital", "Vexley Mercy Institute")
BIRTH = date(1987, 2, 23)
EMAIL = "oriabel.q@candidates.example.org"
PHONE = "+60 3 4471 9286"
PASSPORT = "QX9087123"
UPLOADED = f"{GIVEN} {FAMILY} - scanned"


def hidden_values() -> dict[str, str]:
    """What must never reach a reviewer of the blind cycle, as searched for."""
    values = {
        "family name": FAMILY, "given names": GIVEN, "first given name": GIVEN.split()[0],
        "native name": NATIVE, "institution": "Vexley", "e-mail": EMAIL,
        "e-mail (local part)": EMAIL.split("@")[0], "phone": PHONE,
        "phone (digits)": "".join(c for c in PHONE if c.isdigit()),
        "passport number": PASSPORT, "date of birth (ISO)": BIRTH.isoformat(),
    }
    for locale in ("en", "ja"):
        for style in ("short", "medium", "long", "full"):
            values[f"date of birth ({locale}, {style})"] = format_date(BIRTH, style, locale)
    return values


# -- searching answers ---------------------------------------------------------------------

@dataclass
class Search:
    """Searches texts, files and archives for the hidden values; `found` says where."""

    needles: dict[str, str]
    photo: bytes = b""
    found: list[str] = field(default_factory=list)
    allowed: frozenset[str] = frozenset()  # labels the answer searched now may show
    _seen: set[tuple[int, frozenset[str]]] = field(default_factory=set)

    def text(self, where: str, text: str) -> None:
        folded = text.casefold()
        for label, value in self.needles.items():
            if label not in self.allowed and value.casefold() in folded:
                self.found.append(f"{where}: {label} ({value!r})")

    def data(self, where: str, data: bytes, content_type: str = "") -> None:
        """A body or a file: by what it is, not by what it says it is."""
        if (hash(data), self.allowed) in self._seen:
            return
        self._seen.add((hash(data), self.allowed))
        if self.photo and self.photo in data:
            self.found.append(f"{where}: the photo")
        if data.startswith(b"PK"):
            self._zip(where, data)
        elif data.startswith(b"%PDF"):
            self._pdf(where, data)
        else:
            text = data.decode("utf-8", "replace")
            if "json" in content_type:
                text = json.dumps(json.loads(text), ensure_ascii=False)
            self.text(where, html.unescape(text))

    def _zip(self, where: str, data: bytes) -> None:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                self.text(f"{where} member name", info.filename)
                self.text(f"{where} member comment", info.comment.decode("utf-8", "replace"))
                self.data(f"{where} [{info.filename}]", archive.read(info))

    def _pdf(self, where: str, data: bytes) -> None:
        self.text(f"{where} (raw PDF)", raw_strings(data).decode("latin-1"))
        reader = PdfReader(io.BytesIO(data))
        self.text(f"{where} (PDF metadata)", repr(dict(reader.metadata or {})))
        xmp = reader.root_object.get("/Metadata")
        if xmp is not None:
            self.text(f"{where} (XMP)", xmp.get_object().get_data().decode("utf-8", "replace"))
        self.text(f"{where} (outline)", repr(reader.outline))
        for number, page in enumerate(reader.pages, 1):
            self.text(f"{where} (page {number})", page.extract_text() or "")

    def response(self, where: str, response: Any) -> None:  # noqa: ANN401 - a TestResponse
        headers = "\n".join(f"{k}: {unquote(v)}" for k, v in response.headers.items())
        self.text(f"{where} headers", headers)
        self.data(where, response.get_data(), response.content_type or "")


# -- the world -----------------------------------------------------------------------------

def _name_everything(rc: ReviewCycle) -> None:
    """Every candidate of the cycle gets the distinctive values, every file a name and
    metadata naming the candidate."""
    photo = make_jpeg("Candidate photo", (80, 60), color="#a1b2c3")
    for institution, name in zip(rc.institutions, INSTITUTIONS, strict=True):
        institution.name = name
    for nomination in rc.nominations:
        nomination.family_name, nomination.given_names = FAMILY, GIVEN
        nomination.native_name, nomination.date_of_birth = NATIVE, BIRTH
        nomination.email, nomination.phone, nomination.passport_number = EMAIL, PHONE, PASSPORT
        add_document(nomination, "photo", data=photo, content_type="image/jpeg",
                     name=f"{UPLOADED} photo.jpg")
    db.session.flush()
    plain_cv = make_pdf("Curriculum vitae", [f"{GIVEN} {FAMILY}", "Saint Vexley Hospital",
                                             f"Passport {PASSPORT}"])
    for document in db.session.scalars(select(NominationDocument).where(
            NominationDocument.nomination_id.in_([n.id for n in rc.nominations]))):
        old = db.session.get(Blob, document.blob_id)
        assert old is not None
        if old.content_type != "application/pdf":
            continue
        cv = document.requirement_id == requirement(rc.cycle, "cv").id
        new = store_blob(plain_cv if cv else pdf_naming(f"{GIVEN} {FAMILY}"),
                         "application/pdf", f"{UPLOADED}.pdf")
        document.blob_id = new.id
        db.session.delete(old)
    db.session.commit()
    rc.photo = photo  # type: ignore[attr-defined]


def _discussion(rc: ReviewCycle, nomination: Nomination) -> Thread:
    thread = Thread(subject_type="nomination", subject_id=nomination.id, audience="committee",
                    last_post_at=utcnow())
    db.session.add(thread)
    db.session.flush()
    db.session.add(Post(thread_id=thread.id, author_id=rc.staff.id, author_role="staff",
                        body="Please compare the English evidence."))
    db.session.commit()
    return thread


@pytest.fixture
def world(factory) -> ReviewCycle:  # noqa: ANN001
    rc = make_review_cycle(factory, blind=BLIND_ALL, documents=True)
    _name_everything(rc)
    rc.thread = _discussion(rc, rc.nominations[2])  # type: ignore[attr-defined]
    return rc


def world_values(rc: ReviewCycle) -> list[dict[str, list[object]]]:
    """URL argument values, one set per dossier of reviewer 0 (not started, draft,
    submitted) and per dossier they must not open (returned, withdrawn, conflicted only
    for others). Extend here when a route takes an argument this does not know."""
    reviewer = rc.reviewers[0]
    contexts = []
    for n in (0, 1, 2, 4, 5):
        nomination = rc.nominations[n]
        documents = list(db.session.scalars(select(NominationDocument.id).where(
            NominationDocument.nomination_id == nomination.id)))
        assignment = rc.assignment(n, 0)
        review = rc.reviews.get((n, 0))
        others = [rc.reviews[k].id for k in rc.reviews if k[0] == n and k[1] != 0]
        contexts.append({
            "nomination_id": [nomination.id], "document_id": documents,
            "assignment_id": [assignment.id],
            "review_id": [review.id] if review else others,
            "other_review_id": others, "cycle_id": [rc.cycle.id],
            "thread_id": [rc.thread.id],  # type: ignore[attr-defined]
            "post_id": [p for p in db.session.scalars(select(Post.id))],
            "reviewer_id": [reviewer.id, rc.reviewers[1].id],
            "user_id": [reviewer.id, rc.reviewers[1].id],
            "member_id": [rc.member(reviewer).id], "pool_member_id": [rc.member(reviewer).id],
            "criterion_id": [rc.criteria[0].id],
            "conflict_id": [rc.conflict.id] if rc.conflict else [],
            "institution_id": [i.id for i in rc.institutions],
            "requirement_id": [requirement(rc.cycle, "cv").id],
        })
    return contexts


# Query strings worth requesting beside the plain URL, per endpoint.
EXTRA_URLS: dict[str, Callable[[ReviewCycle], list[str]]] = {
    "review.my_reviews_export": lambda rc: [f"/review/my-reviews/export.csv?cycle={rc.cycle.id}"],
}
# What an endpoint may show although the cycle is blind. The issue: "In a blind cycle
# reviewers cannot see institutions, so they declare conflicts up front from the list of
# institutions that nominated" (a list of names, never tied to a candidate).
ALLOWED: dict[str, frozenset[str]] = {
    "review.declare_conflicts": frozenset({"institution"}),
}
# Other pages a reviewer reads that show review work (the dashboard's sections).
OTHER_PAGES = ("/", "/dashboard")


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    """A service of another part of the review area, once that part is merged (until
    then its trigger does nothing; once merged, a changed signature fails loudly)."""
    if importlib.util.find_spec(module) is None:
        return None
    return getattr(importlib.import_module(module), name)


def _queue_ready(rc: ReviewCycle) -> None:
    if (notify := _optional("portal.review.assign_mails", "notify_queues")) is not None:
        notify(rc.cycle, rc.staff)


def _reminder(rc: ReviewCycle) -> None:
    if (remind := _optional("portal.review.progress", "remind")) is not None:
        remind(rc.cycle, rc.reviewers[0], rc.staff)


def _dossier_moved(rc: ReviewCycle) -> None:
    """Returned, resubmitted, withdrawn: dossiers other than the ones searched below."""
    if (moved := _optional("portal.review.changes", "on_nomination_moved")) is not None:
        for n, move in ((4, "return"), (3, "resubmit"), (5, "withdraw")):
            moved(rc.nominations[n], move, rc.staff)


def _discussion_posts(rc: ReviewCycle) -> None:
    if (send := _optional("portal.threads.services", "send_due")) is not None:
        send(utcnow() + timedelta(minutes=30))


# Each makes the portal queue mails it sends reviewers: (world) -> None.
MAIL_TRIGGERS: list[Callable[[ReviewCycle], None]] = [
    _queue_ready, _reminder, _dossier_moved, _discussion_posts,
]


def _urls(adapter: Any, rule: Rule, contexts: list[dict[str, list[object]]],  # noqa: ANN401
          unknown: set[str]) -> Iterator[str]:
    names = sorted(rule.arguments)
    for context in contexts:
        choices: list[list[object]] = []
        for name in names:
            converter = rule._converters.get(name)
            if isinstance(converter, AnyConverter):
                choices.append(sorted(converter.items))
            elif name in context:
                choices.append(context[name])
            else:
                unknown.add(f"{rule.endpoint} <{name}>")
                return
        for values in itertools.product(*choices):
            yield adapter.build(rule.endpoint, dict(zip(names, values, strict=True)))


def _reviewer_may_use(app: Flask, endpoint: str) -> bool:
    roles = getattr(app.view_functions[endpoint], "allowed_roles", None)
    return roles is None or Role.REVIEWER in roles


def test_no_hidden_fact_reaches_a_reviewer(app_ctx, client, login_as, world) -> None:  # noqa: ANN001
    rc = world
    for trigger in MAIL_TRIGGERS:
        trigger(rc)
    db.session.commit()
    reviewer = rc.reviewers[0]
    login_as(reviewer)
    search = Search(hidden_values(), photo=rc.photo)  # type: ignore[attr-defined]
    adapter = app_ctx.url_map.bind("portal.test")
    contexts = world_values(rc)
    unknown: set[str] = set()
    answered: dict[str, set[int]] = {}
    requested = 0

    def get(endpoint: str, url: str) -> None:
        nonlocal requested
        search.allowed = ALLOWED.get(endpoint, frozenset())
        response = client.get(url)
        requested += 1
        answered.setdefault(endpoint, set()).add(response.status_code)
        search.response(f"GET {url}", response)
        if response.mimetype == "text/html":
            for name, headers in (("htmx", {"HX-Request": "true"}),
                                  ("json", {"Accept": "application/json"})):
                variant = client.get(url, headers=headers)
                requested += 1
                answered[endpoint].add(variant.status_code)
                search.response(f"GET {url} ({name})", variant)

    rules = [r for r in app_ctx.url_map.iter_rules()
             if r.endpoint.startswith("review.") and "GET" in (r.methods or set())]
    for rule in rules:
        for url in dict.fromkeys(_urls(adapter, rule, contexts, unknown)):
            get(rule.endpoint, url)
        for url in EXTRA_URLS.get(rule.endpoint, lambda _rc: [])(rc):
            get(rule.endpoint, url)
    for url in OTHER_PAGES:
        get("(other)", url)

    reviewers = [r.email for r in (*rc.reviewers, rc.conflicted, rc.outsider)]
    mails = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_addr.in_(reviewers))).all()
    for mail in mails:
        where = f"mail {mail.template} to {mail.to_addr}"
        search.text(f"{where} (subject)", mail.subject)
        search.text(f"{where} (text)", mail.body_text)
        search.text(f"{where} (html)", html.unescape(mail.body_html or ""))

    assert not unknown, ("the leak test cannot build URLs for these routes; give "
                         "world_values() their arguments: " + ", ".join(sorted(unknown)))
    assert not search.found, (f"{len(search.found)} hidden values reached the reviewer:\n"
                              + "\n".join(search.found[:40]))
    unseen = sorted(e for e, statuses in answered.items()
                    if e.startswith("review.") and _reviewer_may_use(app_ctx, e)
                    and min(statuses) >= 400)
    assert not unseen, ("reviewer endpoints that answered only errors (their content was "
                        "not searched; give the world what they need): " + ", ".join(unseen))
    # The positive side: the reviewer got the files, the zip and the export.
    for endpoint in ("review.document", "review.document_preview", "review.dossier_zip",
                     "review.my_reviews_export"):
        assert 200 in answered.get(endpoint, set()), endpoint
    review_mail_templates = [p.name for pattern in ("review*", "thread*", "review/*")
                             for p in (TEMPLATES / "email").glob(pattern)]
    assert mails or not review_mail_templates, (
        "reviewers get mails (" + ", ".join(sorted(review_mail_templates)) + ") but no "
        "trigger made one: add them to MAIL_TRIGGERS")
    assert requested > 0


def test_the_search_finds_every_kind_of_leak() -> None:
    """The search itself, on planted leaks: an HTML title, a header, a JSON string, a
    zip member's name, a PDF's metadata inside a zip, a spreadsheet cell, the photo."""
    photo = make_jpeg("Candidate photo", (80, 60), color="#a1b2c3")
    search = Search(hidden_values(), photo=photo)
    search.data("html", f"<title>Candidate &amp; {FAMILY}</title>".encode())
    search.text("header", unquote("attachment; filename*=UTF-8''" + quote(f"{NATIVE}.pdf")))
    search.data("json", json.dumps({"label": NATIVE}).encode(), "application/json")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"{PASSPORT}.txt", "x")
        zf.writestr("cv.pdf", pdf_naming("Oriabel Maranth", text="Nothing here."))
        zf.writestr("photo.jpg", photo)
    search.data("zip", archive.getvalue())
    search.data("xlsx", to_xlsx(["Born"], [[format_date(BIRTH, "long", "ja")]], "Sheet"))
    found = "\n".join(search.found)
    for expected in ("html: family name", "header: native name", "json: native name",
                     "zip member name: passport number", "(PDF metadata): given names",
                     "(XMP): given names", "the photo", "date of birth (ja, long)"):
        assert expected in found, expected

