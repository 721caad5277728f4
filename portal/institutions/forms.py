"""Institution forms: staff editing and the public request for access."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from portal.forms import Form
from portal.i18n import valid_timezone
from portal.institutions.models import InstitutionKind

KIND_LABELS = {
    InstitutionKind.HOSPITAL: _l("Hospital"),
    InstitutionKind.MINISTRY: _l("Ministry or public health authority"),
    InstitutionKind.UNIVERSITY: _l("University or medical school"),
    InstitutionKind.ASSOCIATION: _l("Medical association or society"),
    InstitutionKind.OTHER: _l("Other public medical organization"),
}


def _timezone(form: FlaskForm, field: Field) -> None:
    if not valid_timezone(field.data):
        raise ValidationError(_l("Choose a time zone from the list."))


class InstitutionFields(Form):
    name = StringField(_l("Name of the institution"), validators=[DataRequired(), Length(max=200)])
    country = SelectField(_l("Country"), validators=[DataRequired()], validate_choice=True)
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=120)])
    timezone = SelectField(_l("Time zone"), validators=[DataRequired(), _timezone],
                           validate_choice=False)
    kind = SelectField(_l("Type"), choices=[(str(k), v) for k, v in KIND_LABELS.items()])
    head_name = StringField(_l("Head of the institution"),
                            validators=[DataRequired(), Length(max=200)])
    head_email = EmailField(_l("E-mail of the head (endorsements are sent here)"),
                            validators=[DataRequired(), Email(), Length(max=254)])


class InstitutionForm(InstitutionFields):
    pass


class AccessRequestForm(InstitutionFields):
    contact_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    contact_position = StringField(_l("Your position"),
                                   validators=[DataRequired(), Length(max=200)])
    contact_email = EmailField(_l("Your e-mail"),
                               validators=[DataRequired(), Email(), Length(max=254)])
    message = TextAreaField(_l("Anything staff should know (optional)"),
                            validators=[Length(max=2000)])


class DeclineForm(Form):
    reason = TextAreaField(_l("Reason (sent to the requester)"),
                           validators=[DataRequired(), Length(max=2000)])
