"""Staff forms for a cycle and its document requirements."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from portal.cycles.models import ReviewerVisibility, Sensitivity, ValidityRule
from portal.forms import DateField, DateTimeLocalField, Form
from portal.i18n import valid_timezone

PRIOR_CHOICES = [
    ("allowed", _l("Allowed")),
    ("lower_priority", _l("Allowed with lower priority (warns, does not block)")),
    ("not_allowed", _l("Not allowed")),
]
VALIDITY_CHOICES = [
    (ValidityRule.NONE, _l("No validity rule")),
    (ValidityRule.VALID_MONTHS_AFTER_TRAINING,
     _l("Valid at least N months after the training ends (expiry date entered)")),
    (ValidityRule.ISSUED_DAYS_BEFORE_DEADLINE,
     _l("Issued at most N days before the deadline (issue date entered)")),
]
SENSITIVITY_CHOICES = [
    (Sensitivity.NORMAL, _l("Normal: staff and assigned reviewers")),
    (Sensitivity.SENSITIVE, _l("Sensitive: staff only, purged after the retention period")),
]
REVIEWER_CHOICES = [
    (ReviewerVisibility.ALWAYS, _l("Reviewers see it")),
    (ReviewerVisibility.UNLESS_BLIND, _l("Reviewers see it only when the review is not blind "
                                         "(it shows the candidate's name or face)")),
    (ReviewerVisibility.NEVER, _l("Reviewers never see it")),
]
TYPE_CHOICES = [("pdf", "PDF"), ("jpeg", "JPEG"), ("png", "PNG")]
_CODE = re.compile(r"[a-z0-9_]{1,40}")


def _timezone(form: FlaskForm, field: Field) -> None:
    if not valid_timezone(field.data):
        raise ValidationError(_l("Choose a time zone from the list."))


def _limit(label: LazyString) -> IntegerField:
    return IntegerField(label, validators=[Optional(), NumberRange(min=0, max=100000)])


class CycleForm(Form):
    name = StringField(_l("Name (e.g. FY2027)"), validators=[DataRequired(), Length(max=60)])
    window_timezone = SelectField(_l("Time zone of the dates below"),
                                  validators=[DataRequired(), _timezone], validate_choice=False)
    opens_local = DateTimeLocalField(_l("Nominations open"), format="%Y-%m-%dT%H:%M",
                                     validators=[DataRequired()])
    closes_local = DateTimeLocalField(_l("Deadline"), format="%Y-%m-%dT%H:%M",
                                      validators=[DataRequired()])
    training_starts_on = DateField(_l("Training starts (in Japan)"), validators=[DataRequired()])
    training_ends_on = DateField(_l("Training ends"), validators=[DataRequired()])
    retention_days = IntegerField(_l("Keep sensitive documents for (days after the deadline)"),
                                  default=365,
                                  validators=[DataRequired(), NumberRange(min=1, max=3650)])
    specialties = TextAreaField(
        _l("Specialties on offer, one per line as “code: Name” (e.g. cardiology: Cardiology)"),
        validators=[Length(max=5000)])
    seats_total = _limit(_l("Seats in total"))
    seats_per_country = _limit(_l("Seats per country"))
    seats_per_institution = _limit(_l("Seats per institution"))
    max_submissions_per_institution = _limit(_l("Most nominations an institution may submit"))
    max_submissions_per_country = _limit(_l("Most nominations submitted per country"))
    min_experience_years = _limit(_l("Years of experience in the specialty: at least"))
    max_experience_years = _limit(_l("Years of experience in the specialty: at most"))
    min_age = _limit(_l("Age when training starts: at least"))
    max_age = _limit(_l("Age when training starts: at most"))
    english_evidence_required = BooleanField(_l("Evidence of English proficiency required"))
    prior_participation = SelectField(_l("Former participants"), choices=PRIOR_CHOICES)
    endorsement_required = BooleanField(_l("Endorsement by the head of the institution "
                                           "required before submission"))
    consent_text = TextAreaField(_l("Consent text shown to candidates"),
                                 validators=[Length(max=20000)])

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok = super().validate(extra_validators)
        if self.opens_local.data and self.closes_local.data \
                and self.closes_local.data <= self.opens_local.data:
            self.closes_local.errors.append(_l("The deadline must be after the opening."))
            ok = False
        if self.training_starts_on.data and self.training_ends_on.data \
                and self.training_ends_on.data < self.training_starts_on.data:
            self.training_ends_on.errors.append(_l("The training cannot end before it starts."))
            ok = False
        for low, high in ((self.min_experience_years, self.max_experience_years),
                          (self.min_age, self.max_age)):
            if low.data is not None and high.data is not None and high.data < low.data:
                high.errors.append(_l("Must not be below the minimum."))
                ok = False
        try:
            parse_specialties(self.specialties.data or "")
        except ValueError as e:
            self.specialties.errors.append(str(e))
            ok = False
        return ok


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40]


def parse_specialties(text: str) -> list[tuple[str, str]]:
    """Lines "code: Name" (or just "Name") -> [(code, name)]; raises ValueError."""
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        code, sep, name = line.partition(":")
        code, name = (code.strip(), name.strip()) if sep else (slug(line), line)
        if not name or not _CODE.fullmatch(code):
            raise ValueError(str(_l("Specialty line “%(line)s”: use “code: Name” with a code "
                                    "of lower-case letters, digits and _.", line=line)))
        if code in {c for c, _n in out}:
            raise ValueError(str(_l("Specialty code %(code)s appears twice.", code=code)))
        out.append((code, name[:120]))
    return out


class RequirementForm(Form):
    code = StringField(_l("Code (used in file names, e.g. passport)"),
                       validators=[DataRequired(), Length(max=40)])
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=200)])
    help_text = TextAreaField(_l("Help for the institution"), validators=[Length(max=2000)])
    required = BooleanField(_l("Required"), default=True)
    accepted_types = SelectMultipleField(
        _l("Accepted types"), choices=TYPE_CHOICES, default=["pdf"],
        option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False),
        validators=[DataRequired(message=_l("Choose at least one type."))])
    max_size_mb = IntegerField(_l("Size limit (MB)"), default=10,
                               validators=[DataRequired(), NumberRange(min=1, max=200)])
    validity_rule = SelectField(_l("Validity rule"), choices=VALIDITY_CHOICES)
    validity_param = IntegerField(_l("N (months or days)"),
                                  validators=[Optional(), NumberRange(min=0, max=3650)])
    sensitivity = SelectField(_l("Sensitivity"), choices=SENSITIVITY_CHOICES)
    reviewer_visibility = SelectField(
        _l("Selection committee"), choices=REVIEWER_CHOICES,
        description=_l("Sensitive documents are never shown to reviewers, whatever this says."))
    anonymised = BooleanField(_l("Anonymised version for blind review (e.g. a CV without "
                                 "name, photo or institution)"), default=False)
    position = IntegerField(_l("Position in the checklist"), default=0,
                            validators=[Optional(), NumberRange(min=0, max=1000)])

    def validate_code(self, field: Field) -> None:
        if not _CODE.fullmatch(field.data or ""):
            raise ValidationError(_l("Use lower-case letters, digits and _ only."))

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok = super().validate(extra_validators)
        # Checked here: the field is Optional(), which skips its own validators when empty.
        if self.validity_rule.data != ValidityRule.NONE and self.validity_param.data is None:
            self.validity_param.errors.append(_l("This rule needs a number."))
            ok = False
        return ok


class CopyForm(Form):
    name = StringField(_l("Name of the new cycle"), validators=[DataRequired(), Length(max=60)])
