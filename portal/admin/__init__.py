"""Blueprint of the area; views live in the modules listed in VIEWS."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# View modules, imported by create_app() once every area's services exist.
VIEWS = ['routes']
