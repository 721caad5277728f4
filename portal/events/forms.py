"""Forms of the events area: staff editing, materials, messages, guests, check-in, feedback."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.events.labels import KIND_LABELS, MODE_LABELS
from portal.events.models import EventMode
from portal.forms import DateTimeLocalField, Form
from portal.i18n import country_choices, timezone_choices, valid_timezone

LOCAL = "%Y-%m-%dT%H:%M"


class EventForm(Form):
    kind = SelectField(_l("Type"), choices=[(str(k), v) for k, v in KIND_LABELS.items()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=10000)])
    speakers = TextAreaField(_l("Speakers (one a line)"), validators=[Length(max=2000)])
    mode = SelectField(_l("Where"), choices=[(str(k), v) for k, v in MODE_LABELS.items()])
    country = SelectField(_l("Country of the venue"), validators=[DataRequired()])
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=120)])
    address = TextAreaField(_l("Address of the venue"), validators=[Length(max=1000)])
    venue_timezone = SelectField(_l("Time zone of the venue"), validators=[DataRequired()],
                                 validate_choice=False)
    online_link = URLField(_l("Online link (shown only to registered people)"),
                           validators=[Length(max=500)])
    starts_at = DateTimeLocalField(_l("Starts (venue time)"), format=LOCAL,
                                   validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends (venue time)"), format=LOCAL,
                                 validators=[DataRequired()])
    capacity = IntegerField(_l("Seats"), validators=[InputRequired(), NumberRange(1, 100000)])
    registration_opens_at = DateTimeLocalField(_l("Registration opens (venue time)"),
                                               format=LOCAL, validators=[Optional()])
    registration_closes_at = DateTimeLocalField(_l("Registration closes (venue time)"),
                                                format=LOCAL, validators=[Optional()])
    eligible_countries = SelectMultipleField(_l("Open to alumni in these countries"),
                                             validate_choice=True)
    eligible_specialties = SelectMultipleField(_l("Open to alumni of these specialties"),
                                               validate_choice=False)
    guests_allowed = BooleanField(_l("Guests without an account may register (they confirm "
                                     "by e-mail)"))
    cpd_hours = FloatField(_l("CPD hours"), validators=[Optional(), NumberRange(0, 500)])

    def with_choices(self, specialties: list[tuple[str, str]]) -> EventForm:
        countries = country_choices()
        self.country.choices = [("", "—"), *countries]
        self.eligible_countries.choices = countries
        self.eligible_specialties.choices = specialties
        self.venue_timezone.choices = [("", "—"), *timezone_choices()]
        return self

    def validate_venue_timezone(self, field: Field) -> None:
        if not valid_timezone(field.data):
            raise ValidationError(_l("Choose a time zone from the list."))

    def validate_online_link(self, field: Field) -> None:
        field.data = (field.data or "").strip()
        if not field.data and self.mode.data in (EventMode.ONLINE, EventMode.HYBRID):
            raise ValidationError(_l("Online and hybrid events need the link."))
        if field.data and (not field.data.lower().startswith(("https://", "http://"))
                           or any(c.isspace() for c in field.data)):
            raise ValidationError(_l("Give a web address starting with https://."))

    def validate_ends_at(self, field: Field) -> None:
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The end must be after the start."))

    def validate_registration_closes_at(self, field: Field) -> None:
        opens, start = self.registration_opens_at.data, self.starts_at.data
        if field.data and start and field.data > start:
            raise ValidationError(_l("Registration must close before the event starts."))
        if field.data and opens and field.data <= opens:
            raise ValidationError(_l("Registration must close after it opens."))


class ActionForm(Form):
    """A button that changes something: only the CSRF token."""


class MaterialForm(Form):
    title = StringField(_l("Title"), validators=[Length(max=200)])
    file = FileField(_l("File (PDF, JPEG or PNG)"), validators=[FileRequired()])


class MessageForm(Form):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=10000)])
    include_waitlist = BooleanField(_l("Also send to people on the waitlist"))


class GuestForm(Form):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Your e-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    institution = StringField(_l("Your institution"),
                              validators=[DataRequired(), Length(max=200)])


class FeedbackForm(Form):
    rating = RadioField(_l("How useful was the event for your work?"),
                        choices=[("5", _l("5 – very useful")), ("4", "4"), ("3", "3"),
                                 ("2", "2"), ("1", _l("1 – not useful"))],
                        validators=[InputRequired()])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Length(max=4000)])


class CheckInForm(Form):
    code = StringField(_l("Pass code"), validators=[DataRequired(), Length(max=40)])


class WalkInForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    institution = StringField(_l("Institution"), validators=[Length(max=200)])
