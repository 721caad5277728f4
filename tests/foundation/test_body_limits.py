"""Request bodies have a limit (issue 12, point 5): a small default for every request,
refused with 413 from Content-Length before anything is read; upload views raise it with
`portal.web.body_limit`."""

from __future__ import annotations

import io
import os

from PIL import Image
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.events.models import EventMaterial
from portal.extensions import db
from tests.events import factories

BIG = 300 * 2**20


class Untouchable(io.RawIOBase):
    """A request body that must not be read."""

    def __init__(self) -> None:
        self.reads = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures it (as empty)
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self.reads += 1
        raise AssertionError("the body was read")


def _announced(client, path: str, headers: dict[str, str] | None = None):  # noqa: ANN001, ANN202
    body = Untouchable()
    response = client.post(path, input_stream=body, headers=headers or {},
                           content_type="application/x-www-form-urlencoded",
                           environ_overrides={"CONTENT_LENGTH": str(BIG)})
    return response, body


def test_a_huge_body_is_refused_before_it_is_read(client) -> None:  # noqa: ANN001
    response, body = _announced(client, "/login")
    assert response.status_code == 413
    assert body.reads == 0
    page = response.get_data(as_text=True)
    assert "What you sent is too large: at most 512 KB can be sent here." in page
    # Nothing behind the limit ran: no sign-in attempt was even seen.
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0
    # Also where no route answers, and for scripts and htmx in their own form.
    assert _announced(client, "/no/such/page")[0].status_code == 413
    as_json, _ = _announced(client, "/login", {"Accept": "application/json"})
    assert as_json.status_code == 413 and as_json.get_json()["code"] == "too_large"
    fragment, _ = _announced(client, "/login", {"HX-Request": "true"})
    assert fragment.status_code == 413 and fragment.headers["HX-Retarget"] == "#flashes"
    assert "at most 512 KB" in fragment.get_data(as_text=True)


def test_a_body_without_length_is_cut_off_at_the_limit(client) -> None:  # noqa: ANN001
    body = b"email=a%40example.org&password=" + b"x" * (600 * 1024)
    response = client.post("/login", input_stream=io.BytesIO(body),
                           content_type="application/x-www-form-urlencoded",
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413


def test_the_limit_is_a_setting(client, settings) -> None:  # noqa: ANN001
    settings(REQUEST_MAX_KB=1)
    response = client.post("/login", data={"email": "a@example.org", "password": "x" * 2000})
    assert response.status_code == 413
    assert "at most 1 KB" in response.get_data(as_text=True)


def _noisy_png(size: int) -> bytes:
    image = Image.frombytes("RGB", (size, size), os.urandom(size * size * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_an_upload_view_has_its_own_larger_limit(client, factory, login_as,  # noqa: ANN001
                                                 settings) -> None:
    settings(EVENT_MATERIAL_MAX_MB=2)
    login_as(factory.staff())
    event = factories.event()
    png = _noisy_png(500)
    assert 512 * 1024 < len(png) < 2**20
    added = client.post(f"/admin/events/{event.id}/materials",
                        data={"title": "Slides", "file": (io.BytesIO(png), "slides.png")})
    assert added.status_code == 303
    assert db.session.scalar(select(func.count(EventMaterial.id))) == 1
    # Its limit follows the setting: over it (and the form around it), 413 before reading.
    response, body = _announced(client, f"/admin/events/{event.id}/materials")
    assert response.status_code == 413 and body.reads == 0
    assert "at most 2 MB" in response.get_data(as_text=True)
