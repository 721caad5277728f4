"""Forms of the staff intake: returning a nomination for changes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import FieldList, FormField, SelectField, TextAreaField
from wtforms import Form as SubForm
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.cycles.models import DocumentRequirement
from portal.forms import Form
from portal.nominations.labels import FIELD_LABELS

# Candidate facts staff may comment on are the workspace's own (FIELD_LABELS), so a
# note always names a field the institution sees on its form.
FIELD_NOTE_ROWS = 3


class FieldNoteForm(SubForm):
    """One comment on one candidate fact (a sub-form: the outer form carries CSRF)."""

    field = SelectField(_l("Field"), choices=[("", _l("(choose a field)"))]
                        + list(FIELD_LABELS.items()), validators=[Optional()])
    comment = TextAreaField(_l("What needs fixing"), validators=[Length(max=2000)])

    def validate_comment(self, comment: TextAreaField) -> None:
        if comment.data and comment.data.strip() and not self.field.data:
            raise ValidationError(_l("Choose the field this comment is about."))


class ReturnForm(Form):
    comment = TextAreaField(
        _l("Message to the institution"),
        validators=[DataRequired(_l("Say what the institution should change.")),
                    Length(max=4000)],
    )
    field_notes = FieldList(FormField(FieldNoteForm), min_entries=FIELD_NOTE_ROWS,
                            max_entries=FIELD_NOTE_ROWS)

    document_field_names: list[tuple[str, DocumentRequirement]] = []

    def notes(self) -> list[tuple[str | None, int | None, str]]:
        """(field, requirement id, comment) of every note filled in."""
        found: list[tuple[str | None, int | None, str]] = []
        for entry in self.field_notes:
            text = (entry.form.comment.data or "").strip()
            if text and entry.form.field.data:
                found.append((entry.form.field.data, None, text))
        for name, requirement in self.document_field_names:
            text = (getattr(self, name).data or "").strip()
            if text:
                found.append((None, requirement.id, text))
        return found

    def document_fields(self) -> list[tuple[Any, DocumentRequirement]]:
        return [(getattr(self, name), r) for name, r in self.document_field_names]


def return_form(requirements: Iterable[DocumentRequirement], **kwargs: Any) -> ReturnForm:
    """The form with one note box per document requirement of the cycle."""

    class _Form(ReturnForm):
        pass

    names = []
    for requirement in requirements:
        name = f"doc_{requirement.id}"
        setattr(_Form, name, TextAreaField(
            requirement.label, validators=[Optional(), Length(max=2000)]))
        names.append((name, requirement))
    _Form.document_field_names = names
    return _Form(**kwargs)
