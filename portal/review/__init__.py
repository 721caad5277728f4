"""Selection I: the committee reviews. Review settings, rubric, reviewer pool, conflicts
of interest, assignment (manual and optimal), the reviewer's queue and workspace, the
committee's discussion, progress and reminders.

Every reviewer-facing page starts from portal.review.policy.assignments_visible_to.
"""

from flask import Blueprint

from portal.registry import register_demo_loader

bp = Blueprint("review", __name__)
register_demo_loader("portal.review.demo.load")

# View modules, imported by create_app() once every area's services exist. Each module
# registers its own navigation links and dashboard sections (portal.registry).
VIEWS: list[str] = ["setup_routes", "pool_routes", "assign_routes", "queue_routes",
                    "workspace_routes", "discussion_routes", "document_routes"]
