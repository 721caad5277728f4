"""Staff forms of the review set-up: settings, criteria, copy, pool, conflicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from portal.forms import DateTimeLocalField, Form
from portal.i18n import valid_timezone
from portal.listing import parse_int
from portal.review.blind import BLIND_LABELS
from portal.review.conflicts import KIND_LABELS
from portal.review.models import BlindField, ConflictKind, OthersVisible
from portal.review.rubric import RubricError, parse_guidance


def _timezone(form: Form, field: Field) -> None:
    if not valid_timezone(field.data):
        raise ValidationError(_l("Choose a time zone from the list."))


def _checkboxes(label: object, choices: list[tuple[str, Any]]) -> SelectMultipleField:
    return SelectMultipleField(label, choices=choices, option_widget=widgets.CheckboxInput(),
                               widget=widgets.ListWidget(prefix_label=False))


OTHERS_CHOICES = [
    (OthersVisible.AFTER_OWN, _l("After submitting their own review of the same dossier")),
    (OthersVisible.NEVER, _l("Never")),
]


class SettingsForm(Form):
    timezone = SelectField(_l("Time zone of the moments below"),
                           validators=[DataRequired(), _timezone], validate_choice=False)
    opens_local = DateTimeLocalField(_l("Review opens"), format="%Y-%m-%dT%H:%M",
                                     validators=[Optional()])
    closes_local = DateTimeLocalField(_l("Review closes"), format="%Y-%m-%dT%H:%M",
                                      validators=[Optional()])
    reviews_wanted = IntegerField(_l("Reviews wanted per nomination"), default=3,
                                  validators=[DataRequired(), NumberRange(min=1, max=20)])
    default_load = IntegerField(_l("Default load limit per reviewer (dossiers)"), default=15,
                                validators=[DataRequired(), NumberRange(min=1, max=1000)])
    blind_fields = _checkboxes(_l("Blind review: hide from reviewers"),
                               [(str(b), BLIND_LABELS[b]) for b in BlindField])
    others_visible = RadioField(_l("Reviewers see each other's reviews"),
                                choices=OTHERS_CHOICES, default=OthersVisible.AFTER_OWN)
    others_named = BooleanField(_l("Show other reviewers' names (otherwise “Reviewer A”, "
                                   "“Reviewer B”…)"))
    confidentiality_text = TextAreaField(
        _l("Confidentiality terms reviewers accept before the first dossier"),
        validators=[Length(max=20000)])
    disagreement_threshold = FloatField(
        _l("Disagreement threshold (spread of scores on the 0–1 scale)"), default=0.35,
        validators=[DataRequired(), NumberRange(min=0.01, max=1)])

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok = super().validate(extra_validators)
        opens, closes = self.opens_local.data, self.closes_local.data
        if closes and not opens:
            self.opens_local.errors.append(_l("Say when review opens."))
            ok = False
        if opens and closes and closes <= opens:
            self.closes_local.errors.append(_l("Review must close after it opens."))
            ok = False
        return ok


class CriterionForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description (what reviewers judge)"),
                                validators=[Length(max=5000)])
    guidance = TextAreaField(_l("Guidance per scale point, one line each (e.g. “1: No "
                                "relevant experience”)"), validators=[Length(max=10000)])
    scale_min = IntegerField(_l("Scale from"), default=1,
                             validators=[Optional(), NumberRange(min=0, max=99)])
    scale_max = IntegerField(_l("Scale to"), default=5,
                             validators=[DataRequired(), NumberRange(min=1, max=100)])
    weight = FloatField(_l("Weight"), default=1.0,
                        validators=[DataRequired(), NumberRange(min=0.001, max=100)])
    required = BooleanField(_l("Required: reviewers must score it to submit"), default=True)
    position = IntegerField(_l("Position"), validators=[Optional(), NumberRange(min=0, max=1000)])

    def validate_guidance(self, field: Field) -> None:
        try:
            parse_guidance(field.data or "")
        except RubricError as e:
            raise ValidationError(str(e.message)) from None

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok = super().validate(extra_validators)
        if self.scale_min.data is None:
            self.scale_min.errors.append(_l("Give the lowest point of the scale."))
            ok = False
        elif self.scale_max.data is not None and self.scale_max.data <= self.scale_min.data:
            self.scale_max.errors.append(_l("The scale must run upwards, e.g. 1 to 5."))
            ok = False
        return ok

    def values(self) -> dict[str, object]:
        return {"name": self.name.data, "description": self.description.data or "",
                "guidance": parse_guidance(self.guidance.data or ""),
                "scale_min": self.scale_min.data, "scale_max": self.scale_max.data,
                "weight": self.weight.data, "required": bool(self.required.data),
                "position": self.position.data or 0}


def _optional_int(value: object) -> int | None:
    """An id chosen in a list, or None (empty, not a number, or beyond any id)."""
    return parse_int(value)


class CopyRubricForm(Form):
    source = SelectField(_l("Copy the rubric of"), coerce=_optional_int, validate_choice=False)
    settings = BooleanField(_l("Also copy the review settings (not the window)"))


class InviteForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    language = SelectField(_l("Language of the invitation"),
                           choices=[("en", "English"), ("ja", "日本語")])


class MemberForm(Form):
    specialties = _checkboxes(_l("Specialties this reviewer reviews"), [])
    load_limit = IntegerField(_l("Load limit (dossiers; empty: the cycle's default)"),
                              validators=[Optional(), NumberRange(min=0, max=1000)])
    institution_id = SelectField(_l("Affiliation: a portal institution"), coerce=_optional_int,
                                 validate_choice=False)
    affiliation_name = StringField(_l("…or the name of another institution"),
                                   validators=[Length(max=200)])
    affiliation_country = SelectField(_l("Country of that institution"),
                                      validate_choice=False)
    languages = StringField(_l("Languages read (codes, e.g. “en, ja, vi”)"),
                            validators=[Length(max=200)])


TARGET_CHOICES = [("institution", _l("An institution")), ("country", _l("A country")),
                  ("nomination", _l("One nomination"))]


class ConflictForm(Form):
    reviewer_id = SelectField(_l("Reviewer"), coerce=_optional_int, validate_choice=False,
                              validators=[DataRequired(message=_l("Choose a reviewer."))])
    kind = SelectField(_l("Kind"), choices=[(str(k), KIND_LABELS[k]) for k in ConflictKind])
    target = RadioField(_l("Conflict with"), choices=TARGET_CHOICES, default="institution")
    institution_id = SelectField(_l("Institution"), coerce=_optional_int,
                                 validate_choice=False)
    country = SelectField(_l("Country"), validate_choice=False)
    nomination_id = SelectField(_l("Nomination"), coerce=_optional_int, validate_choice=False)
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok = super().validate(extra_validators)
        chosen = {"institution": self.institution_id, "country": self.country,
                  "nomination": self.nomination_id}.get(self.target.data or "")
        if chosen is not None and not chosen.data:
            chosen.errors.append(_l("Choose one."))
            ok = False
        return ok
