"""Staff intake of nominations: the list, the dossier page, downloads, zips, purges."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Role
from portal.jobs import register_periodic
from portal.registry import register_nav

bp = Blueprint("intake", __name__, url_prefix="/staff/nominations")

# View modules, imported by create_app() once every area's services exist.
VIEWS = ["routes", "downloads", "alumni_routes"]

register_nav(_l("Nominations"), "intake.index", Role.STAFF, order=20)
# Cheap when nothing is due (one small query), so the every-minute tick may run it.
register_periodic("purge-sensitive", "portal.intake.purge.run")
