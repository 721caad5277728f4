"""Staff's review set-up pages in a real browser: accessible, usable at 360 px by keyboard."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.cycles.models import Cycle
from portal.extensions import db
from tests.e2e.conftest import (
    assert_accessible,
    no_horizontal_scroll,
    problems,
    sign_in,
    wide_elements,
)

pytestmark = pytest.mark.e2e

ADMIN = "admin@example.org"


def test_staff_open_every_set_up_page(page: Any, phone: Any, live_server: str,
                                      e2e_app: Flask) -> None:
    with e2e_app.app_context():
        cycle_id = db.session.scalar(select(Cycle.id).where(Cycle.name == "FY2027"))
    base = f"/staff/review/{cycle_id}"
    sign_in(page, live_server, ADMIN, reuse=True)
    page.goto(live_server + "/dashboard")
    page.get_by_role("link", name="Review", exact=True).click()
    page.get_by_role("link", name="FY2027").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Review of FY2027"
    for path in ("", "/settings", "/rubric", "/pool", "/conflicts", "/progress"):
        response = page.goto(live_server + base + path)
        assert response is not None and response.ok, path
        assert_accessible(page)
    sign_in(phone, live_server, ADMIN, reuse=True)
    for path in ("", "/settings", "/rubric", "/pool", "/conflicts", "/progress"):
        phone.goto(live_server + base + path)
        assert no_horizontal_scroll(phone), (path, wide_elements(phone))
    for tab in (page, phone):
        found = problems(tab)
        assert found.page_errors == [] and found.csp_violations == []
