"""No route answers 5xx to numbers and dates out of range (issue 12, point 16).

Every rule of the access inventory is requested as the first viewer allowed to use it,
against the real objects of the access world: once with each integer of its path replaced
by a huge, an overflowing (2^31, PostgreSQL's INTEGER ends at 2^31-1) and a negative
number, and once per extreme value with that value in every query parameter (and, for
POSTs, every form field) the portal reads. Allowed answers: anything but 5xx (and no
exception). Runs on both backends; a few hundred requests each.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter
from wtforms.fields.core import UnboundField

from portal.extensions import limiter
from portal.listing import ListFilters
from tests.access.rules import VIEWERS, Rule
from tests.access.test_inventory import Viewers, _order
from tests.access.world import all_rules

PORTAL = Path(__file__).resolve().parents[2] / "portal"
HUGE = "99999999999999999999"
PATH_NUMBERS = (int(HUGE), 2**31, -1)
VALUES = (HUGE, str(2**31), "-" + HUGE, "-1", "0001-01-01", "9999-12-31")
# Names read with `args.get("...")`, `form.get(...)`, `values.get(...)` anywhere in portal/.
_INT = re.compile(r"-?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_READ = re.compile(r"""(?:args|values|form|data)\.get(?:list)?\(\s*["']([a-z_]+)["']""")


def parameter_names() -> list[str]:
    """Every query or form parameter the portal reads by name: list filters' fields and
    names read from request values in the code."""
    names: set[str] = {"page", "per_page", "sort"}
    for path in PORTAL.rglob("*.py"):
        names.update(_READ.findall(path.read_text()))

    def subclasses(cls: type) -> Iterator[type]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for filters in subclasses(ListFilters):
        arg_names = filters.ARG_NAMES
        names.update(arg_names.get(f.name, f.name) for f in dataclasses.fields(filters))
    for form in subclasses(FlaskForm):  # forms also read query strings (request.values)
        names.update(name for cls in form.__mro__ for name, value in vars(cls).items()
                     if isinstance(value, UnboundField))
    return sorted(names - {"next", "file", "formdata", "mapping", "csrf_token"})


def _viewer(rule: Rule) -> str | None:
    """A viewer the rule lets in; None for rules that only check refusals (a dossier a
    conflict closes: every viewer is refused, so the route is tried by another rule)."""
    return next((v for v in VIEWERS if v in rule.allowed), None)


def _path_variants(app: Flask, path: str, method: str) -> Iterator[str]:
    """`path` with each of its integer arguments replaced by each extreme number."""
    adapter = app.url_map.bind("portal.test")
    rule, values = adapter.match(path, method=method, return_rule=True)
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            for number in PATH_NUMBERS:
                # Built by hand: the converter may refuse to build such a URL at all.
                yield _replace(path, values[name], number)


def _extreme(original: str, value: str) -> str:
    """A form value replaced by an extreme one of its kind (number, date, date and time)."""
    if _INT.fullmatch(original) and _INT.fullmatch(value):
        return value
    if _DATE.match(original) and _DATE.fullmatch(value):
        return value + original[10:]  # a time after the date stays
    return original


def _replace(path: str, old: object, new: int) -> str:
    parts = path.split("/")
    parts[parts.index(str(old))] = str(new)
    return "/".join(parts)


@pytest.fixture
def no_limits() -> Iterator[None]:
    limiter.enabled = False
    try:
        yield
    finally:
        limiter.enabled = True


def test_no_route_answers_5xx_to_extreme_numbers_and_dates(app_ctx, factory,  # noqa: ANN001
                                                          no_limits) -> None:
    viewers = Viewers(app_ctx, factory)
    names = parameter_names()
    failures: list[str] = []
    tried = 0

    def request(viewer: str, path: str, method: str, data: dict[str, Any] | None,
                value: str | None = None) -> None:
        nonlocal tried
        tried += 1
        url = f"{path}?{urlencode(dict.fromkeys(names, value))}" if value else path
        shown = f"{method} {path}" + (f" (every parameter {value})" if value else "")
        try:
            response = viewers.client(viewer).open(url, method=method, data=data)
        except Exception as exc:  # noqa: BLE001  (any exception is a 500 in production)
            failures.append(f"{shown} as {viewer}: {type(exc).__name__}: "
                            + str(exc).splitlines()[0][:160])
            return
        if response.status_code >= 500:
            failures.append(f"{shown} as {viewer}: {response.status_code}")

    def form(rule: Rule, value: str | None) -> dict[str, Any] | None:
        """The rule's form data (made anew: files are read once) with its numbers or its
        dates (as `value` is one or the other) and every other parameter set to `value`."""
        if rule.method not in ("POST", "PUT"):
            return None
        data = rule.data(viewers.world) if rule.data else {}
        if value is None:
            return data
        return {**dict.fromkeys(names, value),
                **{k: _extreme(v, value) if isinstance(v, str) else v for k, v in data.items()}}

    for _module, rule in _order(all_rules()):
        if rule.endpoint == "auth.logout":
            continue
        viewer = _viewer(rule)
        if viewer is None:
            continue
        path = urlsplit(rule.url(viewers.world)).path
        for changed in _path_variants(app_ctx, path, rule.method):
            request(viewer, changed, rule.method, form(rule, None))
        for value in VALUES:
            request(viewer, path, rule.method, form(rule, value), value)
    assert tried > 500
    assert not failures, f"{len(failures)} answers of 5xx:\n" + "\n".join(failures)
