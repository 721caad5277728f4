"""What every form of the portal shares: one-line fields stay on one line, dates stay
within what a person can mean.

- `Form` is the base of the portal's forms. Every single-line text field of a `Form`
  (StringField and its kinds: e-mail, URL, search; not passwords, hidden fields or text
  areas) goes through `single_line`: line breaks, tabs and other control or invisible formatting
  characters become one space. A name, an institution or a subject typed with a line
  break and a link therefore reaches pages and mails as one line of plain text.
- `DateField` and `DateTimeLocalField` refuse dates before 1900 or after 2100 (a typo),
  so no later conversion (a time zone, "the same day next year") overflows.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField as _DateField
from wtforms import DateTimeLocalField as _DateTimeLocalField
from wtforms import Field, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.form import BaseForm
from wtforms.validators import StopValidation

from portal.listing import DATE_MAX, DATE_MIN

# Line and paragraph separators are not control characters (Zl, Zp) but break lines too.
_BREAKING = {"Cc", "Cf", "Zl", "Zp"}


def single_line(value: object) -> object:
    """Text on one line: control characters (CR, LF, tab, NUL...), invisible format
    characters (bidi overrides, zero-width joiners...) and line separators become one
    space; runs of spaces collapse; ends are trimmed. Other values pass unchanged."""
    if not isinstance(value, str):
        return value
    cleaned = "".join(" " if unicodedata.category(c) in _BREAKING else c for c in value)
    return " ".join(cleaned.split())


def _one_line(field_class: type[Field]) -> bool:
    """Text a person types on one line (passwords and hidden values are taken as sent)."""
    return issubclass(field_class, StringField) and not issubclass(
        field_class, PasswordField | HiddenField | TextAreaField)


class Form(FlaskForm):
    """A FlaskForm whose single-line text fields all pass through `single_line`."""

    class Meta(FlaskForm.Meta):
        def bind_field(self, form: BaseForm, unbound_field: UnboundField,
                       options: dict[str, Any]) -> Field:
            if _one_line(unbound_field.field_class):
                filters = [*unbound_field.kwargs.get("filters", ()), single_line]
                options = {**options, "filters": filters}
            return super().bind_field(form, unbound_field, options)


_OUT_OF_RANGE = _l("Enter a date from %(first)d to %(last)d.", first=DATE_MIN.year,
                   last=DATE_MAX.year)


def _within(day: date) -> bool:
    return DATE_MIN <= day <= DATE_MAX


class _Bounded:
    """A date out of range is dropped (data None) and refused before the field's own
    validators run, so "required" does not hide why."""

    out_of_range = False

    def pre_validate(self, form: BaseForm) -> None:
        if self.out_of_range:
            raise StopValidation(str(_OUT_OF_RANGE))


class DateField(_Bounded, _DateField):
    """A date from 1900 to 2100; anything else is a field error."""

    data: date | None

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        self.out_of_range = self.data is not None and not _within(self.data)
        if self.out_of_range:
            self.data = None


class DateTimeLocalField(_Bounded, _DateTimeLocalField):
    """A date and time from 1900 to 2100; anything else is a field error."""

    data: datetime | None

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        self.out_of_range = self.data is not None and not _within(self.data.date())
        if self.out_of_range:
            self.data = None
