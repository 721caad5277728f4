"""Blueprint of the area; views live in the modules listed in VIEWS."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

# View modules, imported by create_app() once every area's services exist.
VIEWS = ["routes"]  # the staff pages of people: portal.institutions.people_routes
