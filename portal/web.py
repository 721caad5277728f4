"""Small helpers every area's routes share."""

from __future__ import annotations

from typing import Any

from flask import render_template
from htmx_flask import request


def is_htmx() -> bool:
    """An htmx request that wants a fragment (history restores want the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def page_or_partial(page_template: str, partial_template: str, /, *, http_status: int = 200,
                    **context: Any):  # noqa: ANN201
    """One URL, two renderings: the fragment for htmx, the page (which includes it) else."""
    template = partial_template if is_htmx() else page_template
    return render_template(template, **context), http_status
