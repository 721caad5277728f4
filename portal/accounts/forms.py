"""Profile and account administration forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from portal.accounts.models import Role
from portal.config import LANGUAGES
from portal.forms import Form
from portal.i18n import valid_timezone

ROLE_LABELS = {
    Role.STAFF: _l("Program staff"),
    Role.NOMINATOR: _l("Nominator"),
    Role.REVIEWER: _l("Reviewer"),
    Role.ALUMNUS: _l("Alumnus"),
}


def _timezone(form: FlaskForm, field: Field) -> None:
    if field.data and not valid_timezone(field.data):
        raise ValidationError(_l("Choose a time zone from the list."))


class ProfileForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    language = SelectField(_l("Language"), choices=list(LANGUAGES.items()))
    timezone = SelectField(_l("Time zone"), validators=[Optional(), _timezone],
                           validate_choice=False)


class InviteForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    roles = SelectMultipleField(
        _l("Roles"), choices=[(str(r), label) for r, label in ROLE_LABELS.items()],
        validators=[DataRequired(message=_l("Choose at least one role."))],
    )
    institution_id = SelectField(_l("Institution (for nominators)"), coerce=int,
                                 validators=[Optional()], validate_choice=False)
    language = SelectField(_l("Language of the invitation"), choices=list(LANGUAGES.items()))


class ColleagueInviteForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    language = SelectField(_l("Language of the invitation"), choices=list(LANGUAGES.items()))


class RolesForm(Form):
    roles = SelectMultipleField(
        _l("Roles"), choices=[(str(r), label) for r, label in ROLE_LABELS.items()]
    )
