"""Sign-in, password and second-factor forms."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from portal.accounts.passwords import MIN_LENGTH
from portal.forms import Form


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class SecondFactorForm(Form):
    code = StringField(_l("Code from your authenticator app, or a recovery code"),
                       validators=[DataRequired(), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class ForgotPasswordForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])


class NewPasswordForm(Form):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_LENGTH, max=1024,
                    message=_l("Use at least %(n)d characters.", n=MIN_LENGTH))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()],
                            render_kw={"autocomplete": "current-password"})


class EnableTwoFactorForm(Form):
    code = StringField(_l("6-digit code from the app"), validators=[DataRequired(), Length(max=10)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class ConfirmPasswordForm(Form):
    password = PasswordField(_l("Your password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
