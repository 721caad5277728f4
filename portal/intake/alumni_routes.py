"""Staff: alumni records from a cycle's accepted nominations.

Registered on the alumni blueprint (which has no URL prefix), so the page keeps its URL
and endpoint among the alumni pages (`alumni.staff_from_cycle`); the module lives in the
intake area because it reads nominations, which the alumni area must not import.
"""

from __future__ import annotations

from flask import flash, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portal.accounts.policy import current_account, staff_required
from portal.alumni import bp
from portal.alumni.forms import CycleForm
from portal.cycles.models import Cycle
from portal.extensions import db
from portal.intake import alumni_records
from portal.web import back_to, see_other


@bp.route("/admin/alumni/from-cycle", methods=["GET", "POST"])
@staff_required
def staff_from_cycle() -> ResponseReturnValue:
    form = CycleForm()
    form.cycle_id.choices = alumni_records.cycle_choices()
    if form.validate_on_submit():
        cycle = db.get_or_404(Cycle, form.cycle_id.data)
        back_to(url_for("alumni.staff_from_cycle"))
        result = alumni_records.create_from_cycle(cycle, current_account())
        flash(_("%(name)s: %(created)d records created, %(linked)d existing records linked, "
                "%(existing)d done before.", name=cycle.name, created=result.created,
                linked=result.linked, existing=result.existing), "success")
        return see_other("alumni.staff_index", year=cycle.training_starts_on.year)
    return render_template("intake/alumni_from_cycle.html", form=form), (
        422 if form.errors else 200)
