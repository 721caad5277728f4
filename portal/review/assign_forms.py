"""Forms of the staff assignment pages (Flask-WTF: every post carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, RadioField
from wtforms.validators import DataRequired, NumberRange

from portal.forms import Form
from portal.listing import MAX_ID


class PreviewForm(Form):
    replace_unstarted = BooleanField(
        _l("Replace unstarted assignments"),
        description=_l("Assignments whose reviewer has not started may be given to someone "
                       "else. Started and submitted reviews are always kept."))


class ApplyForm(Form):
    token = HiddenField(validators=[DataRequired()])


class AddReviewerForm(Form):
    reviewer_id = IntegerField(_l("Reviewer"), validators=[
        DataRequired(_l("Choose a reviewer.")), NumberRange(min=1, max=MAX_ID)])
    over_limit = BooleanField(_l("Assign over the reviewer's load limit"))
    tell = BooleanField(_l("Tell the reviewer by e-mail"), default=True)


class AddNominationForm(Form):
    nomination_id = IntegerField(_l("Nomination"), validators=[
        DataRequired(_l("Choose a nomination.")), NumberRange(min=1, max=MAX_ID)])
    over_limit = BooleanField(_l("Assign over the reviewer's load limit"))
    tell = BooleanField(_l("Tell the reviewer by e-mail"), default=True)


class RemoveForm(Form):
    back = RadioField(choices=[("nomination", ""), ("reviewer", "")], default="nomination",
                      validate_choice=False)
