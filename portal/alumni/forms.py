"""Forms of the alumni area: staff records, the alumnus' profile, import and merge."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from portal.alumni.importer import ENCODINGS, TARGETS
from portal.alumni.services import FIRST_YEAR
from portal.config import LANGUAGES
from portal.forms import DateField, Form
from portal.i18n import country_choices, timezone_choices, valid_timezone


def _timezone(form: FlaskForm, field: Field) -> None:
    if field.data and not valid_timezone(field.data):
        raise ValidationError(_l("Choose a time zone from the list."))


def _cycle_year(form: FlaskForm, field: Field) -> None:
    if field.data is not None and not FIRST_YEAR <= field.data <= date.today().year:
        raise ValidationError(_l("Enter a year from %(first)d to %(last)d.", first=FIRST_YEAR,
                                 last=date.today().year))


class ProfileFields(Form):
    """What an alumnus keeps up to date (staff see the same fields on the record)."""

    position = StringField(_l("Current position"), validators=[Length(max=200)])
    institution_now = StringField(_l("Current institution"), validators=[Length(max=200)])
    specialty = StringField(_l("Specialty"), validators=[Length(max=60)],
                            render_kw={"list": "specialty-list", "autocomplete": "off"})
    city = StringField(_l("City"), validators=[Length(max=120)])
    country = SelectField(_l("Country"), validate_choice=True)
    timezone = SelectField(_l("Time zone"), validators=[Optional(), _timezone],
                           validate_choice=False)
    language = SelectField(_l("Language for e-mails"), choices=list(LANGUAGES.items()))
    contact_by_email = BooleanField(_l("Send me e-mails about follow-up events"))
    directory_visible = BooleanField(_l("List me in the alumni directory"))
    directory_show_email = BooleanField(_l("Show my e-mail address in the directory"))

    def with_choices(self) -> ProfileFields:
        self.country.choices = [("", "—"), *country_choices()]
        self.timezone.choices = [("", "—"), *timezone_choices()]
        return self


class ProfileForm(ProfileFields):
    pass


class AlumnusForm(ProfileFields):
    family_name = StringField(_l("Family name"), validators=[DataRequired(), Length(max=120)])
    given_names = StringField(_l("Given names"), validators=[Length(max=120)])
    native_name = StringField(_l("Name in native script"), validators=[Length(max=200)])
    date_of_birth = DateField(_l("Date of birth"), validators=[Optional()])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    cycle_year = IntegerField(_l("Cycle year"), validators=[Optional(), _cycle_year])
    institution_then = StringField(_l("Institution at nomination"),
                                   validators=[Length(max=200)])
    notes = TextAreaField(_l("Notes (staff only)"), validators=[Length(max=5000)])


class UploadForm(Form):
    file = FileField(_l("Spreadsheet (CSV or XLSX, at most 5 MB)"),
                     validators=[FileRequired(_l("Choose a file."))])
    encoding = SelectField(_l("Encoding of a CSV file"), choices=list(ENCODINGS.items()),
                           default="auto")


class MergeForm(Form):
    other_id = IntegerField(_l("Number of the other record (it is merged into this one)"),
                            validators=[DataRequired()])


class CycleForm(Form):
    cycle_id = SelectField(_l("Cycle"), coerce=int, validate_choice=True)


class ChangeDecisionForm(Form):
    """Staff confirm or decline what an alumnus asked to change (two buttons)."""

    decision = SelectField(choices=[("confirm", _l("Confirm")), ("decline", _l("Decline"))],
                           validators=[DataRequired()])


class ConfirmForm(Form):
    """A POST with nothing but the CSRF token (bulk actions, confirmations)."""


def mapping_form(headers: list[str], mapping: list[str],
                 formdata: MultiDict[str, str] | None = None) -> FlaskForm:
    """One select per column of the file, preset to the guessed field."""
    choices = [("", _l("— ignore this column —")), *TARGETS.items()]
    fields = {
        f"col_{i}": SelectField(header, choices=choices, default=mapping[i] if i < len(mapping)
                                else "")
        for i, header in enumerate(headers)
    }
    form_class = type("MappingForm", (Form,), fields)
    return form_class(formdata=formdata) if formdata is not None else form_class()
