"""Forms of the nomination workspace. Every field of a section is optional while drafting
(the checklist says what is still missing); only formats are checked here."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
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
from wtforms.validators import Email, Length, NumberRange, Optional, ValidationError

from portal.cycles.models import Cycle
from portal.forms import DateField, Form
from portal.i18n import country_choices
from portal.nominations.labels import ENGLISH_LEVELS, FIELD_LABELS, SEXES
from portal.nominations.models import Nomination

_NAME_PUNCTUATION = frozenset(" -'.,")


def _latin(form: FlaskForm, field: Field) -> None:
    """Passport names are in Latin script (as in the machine-readable zone)."""
    for ch in field.data or "":
        if ch in _NAME_PUNCTUATION:
            continue
        if not ch.isalpha() or not unicodedata.name(ch, "").startswith("LATIN"):
            raise ValidationError(_l("Use the Latin letters exactly as printed in the "
                                     "passport; put the native-script name in its own field."))


def _passport(form: FlaskForm, field: Field) -> None:
    value = "".join((field.data or "").split())
    if value and not (value.isascii() and value.isalnum() and 5 <= len(value) <= 20):
        raise ValidationError(_l("A passport number has 5 to 20 letters and digits."))


def _birth(form: FlaskForm, field: Field) -> None:
    if field.data is None:
        return
    today = date.today()
    if field.data >= today or field.data.year < today.year - 90:
        raise ValidationError(_l("Enter the date of birth as in the passport."))
    if today.year - field.data.year < 18:
        raise ValidationError(_l("The candidate must be an adult."))


def _label(name: str) -> LazyString:
    return FIELD_LABELS[name]


class SectionForm(Form):
    """A section is saved on its own (autosave); its fields are Nomination columns."""


class IdentityForm(SectionForm):
    family_name = StringField(_label("family_name"),
                              validators=[Optional(), Length(max=120), _latin])
    given_names = StringField(_label("given_names"),
                              validators=[Optional(), Length(max=120), _latin])
    native_name = StringField(_label("native_name"), validators=[Optional(), Length(max=200)])
    date_of_birth = DateField(_label("date_of_birth"), validators=[Optional(), _birth])
    sex = SelectField(_label("sex"), choices=[("", "—"), *SEXES], validators=[Optional()])
    nationality = SelectField(_label("nationality"), validators=[Optional()])
    passport_number = StringField(_label("passport_number"),
                                  validators=[Optional(), Length(max=30), _passport])


class ContactForm(SectionForm):
    email = EmailField(_label("email"), validators=[Optional(), Email(), Length(max=254)])
    phone = StringField(_label("phone"), validators=[Optional(), Length(max=40)])


class PositionForm(SectionForm):
    position = StringField(_label("position"), validators=[Optional(), Length(max=200)])
    department = StringField(_label("department"), validators=[Optional(), Length(max=200)])
    specialty_id = SelectField(_label("specialty_id"), coerce=lambda v: int(v) if v else None,
                               validators=[Optional()])
    experience_years = IntegerField(_label("experience_years"),
                                    validators=[Optional(), NumberRange(min=0, max=60)])


class EnglishForm(SectionForm):
    english_level = SelectField(_label("english_level"),
                                choices=[("", "—"), *ENGLISH_LEVELS], validators=[Optional()])
    english_evidence = StringField(_label("english_evidence"),
                                   validators=[Optional(), Length(max=200)])


class PriorForm(SectionForm):
    prior_visit_japan = BooleanField(_label("prior_visit_japan"))
    prior_participation = BooleanField(_label("prior_participation"))
    prior_participation_year = IntegerField(
        _label("prior_participation_year"),
        validators=[Optional(), NumberRange(min=1983, max=date.today().year)])


class PreferencesForm(SectionForm):
    preferred_field = StringField(_label("preferred_field"),
                                  validators=[Optional(), Length(max=200)])
    preferred_hospital = StringField(_label("preferred_hospital"),
                                     validators=[Optional(), Length(max=200)])
    motivation = TextAreaField(_label("motivation"), validators=[Optional(), Length(max=4000)])


SECTION_FORMS: dict[str, type[SectionForm]] = {
    "identity": IdentityForm, "contact": ContactForm, "position": PositionForm,
    "english": EnglishForm, "prior": PriorForm, "preferences": PreferencesForm,
}


def section_form(name: str, cycle: Cycle, nomination: Nomination | None = None,
                 formdata: MultiDict[str, str] | None = None) -> SectionForm:
    """The form of one section with its choices (specialties come from the cycle)."""
    kwargs: dict[str, Any] = {"obj": nomination, "prefix": name}
    if formdata is not None:
        kwargs["formdata"] = formdata
    form = SECTION_FORMS[name](**kwargs)
    if isinstance(form, IdentityForm):
        form.nationality.choices = [("", "—"), *country_choices()]
    if isinstance(form, PositionForm):
        form.specialty_id.choices = [("", "—")] + [(s.id, s.name) for s in cycle.specialties]
    return form


def valid_values(form: SectionForm) -> dict[str, Any]:
    """The fields that passed their checks (a draft keeps what is right so far)."""
    return {name: f.data for name, f in form._fields.items()
            if name in FIELD_LABELS and not f.errors}


class WithdrawForm(Form):
    reason = TextAreaField(_l("Why is the nomination withdrawn?"),
                           validators=[Length(min=3, max=2000)])


class DecisionForm(Form):
    """Answer behind a one-time link (endorsement or consent)."""

    decision = StringField()
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
