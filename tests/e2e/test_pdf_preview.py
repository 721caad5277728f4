"""PDF previews on the staff nomination page are drawn by pdf.js into canvases.

The preview route keeps `Content-Security-Policy: sandbox`, in which Chromium shows no PDF
viewer ("blocked"); static/js/pdf-preview.js fetches the bytes and renders them instead,
without eval and without any CSP violation (the page fixture fails the test on one)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import problems, sign_in

pytestmark = pytest.mark.e2e

ADMIN = "admin@example.org"


def _nominations_with_a_pdf(app: Any) -> list[int]:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.nominations.models import NominationDocument
    from portal.storage.models import Blob

    with app.app_context():
        rows = db.session.execute(
            select(NominationDocument.nomination_id)
            .join(Blob, Blob.id == NominationDocument.blob_id)
            .where(Blob.content_type == "application/pdf", Blob.purged_at.is_(None))
            .distinct()
        ).scalars().all()
    return sorted(rows)


def test_staff_see_a_pdf_preview_drawn_on_a_canvas(page, live_server, e2e_app) -> None:  # noqa: ANN001
    sign_in(page, live_server, ADMIN, reuse=True)
    page.goto(f"{live_server}/staff/nominations/")
    assert page.get_by_role("heading", level=1).count() == 1

    preview = None
    for nomination_id in _nominations_with_a_pdf(e2e_app):
        page.goto(f"{live_server}/staff/nominations/{nomination_id}")
        boxes = page.locator(".pdf-preview")
        if boxes.count():
            preview = boxes.first
            break
    assert preview is not None, "no nomination in the demo data shows a PDF preview"

    # The sandboxed iframe is gone for PDFs; the download stays as a fallback.
    details = preview.locator("xpath=ancestor::details[1]")
    assert details.locator("iframe").count() == 0
    assert preview.locator("a[href$='/download']").count() == 1

    details.locator("summary").click()
    canvas = preview.locator(".pdf-preview-pages canvas").first
    canvas.wait_for(state="visible")
    page.wait_for_function(
        "el => el.dataset.state === 'shown'", arg=preview.element_handle(), timeout=15_000)
    size = canvas.evaluate("c => ({w: c.width, h: c.height, cw: c.getBoundingClientRect().width})")
    assert size["w"] > 0 and size["h"] > 0 and size["cw"] > 0, size
    # Something was drawn: not every pixel is transparent or white.
    inked = canvas.evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  for (let i = 0; i < d.length; i += 4) {
                      if (d[i + 3] && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) return true;
                  }
                  return false; }""")
    assert inked, "the canvas is blank"
    status = preview.locator(".pdf-preview-status").inner_text()
    assert "pages shown" in status, status
    canvas.scroll_into_view_if_needed()
    page.screenshot(path="/tmp/pdfprev.png")
    assert not problems(page).console_errors, problems(page).console_errors
