"""Cycles: staff set up each year's call for nominations (window, rules, documents)."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Role
from portal.registry import register_nav

bp = Blueprint("cycles", __name__)

VIEWS = ["routes"]

register_nav(_l("Cycles"), "cycles.index", Role.STAFF, order=70)
