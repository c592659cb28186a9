import zoneinfo

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from phonenumbers import SUPPORTED_REGIONS

from accounts.errors import ServiceError
from accounts.models import Account, User


class SignupForm(forms.Form):
    company = forms.CharField(label=_("Company or organisation"), max_length=200)
    email = forms.EmailField(label=_("Email address"))
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account already uses this email address."))
        return email

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            try:
                password_validation.validate_password(
                    password, User(email=cleaned.get("email", ""))
                )
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autofocus": True})
    )


class AccountSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=[(tz, tz) for tz in sorted(zoneinfo.available_timezones())],
    )
    default_phone_region = forms.ChoiceField(
        label=_("Default phone region"),
        choices=[(region, region) for region in sorted(SUPPORTED_REGIONS)],
        help_text=_("Country used to read phone numbers written without +country code."),
    )

    class Meta:
        model = Account
        fields = ["name", "timezone", "language", "default_phone_region", "postal_address"]
        widgets = {"postal_address": forms.Textarea(attrs={"rows": 3})}


def add_service_error(form: forms.BaseForm, error: ServiceError) -> None:
    """Show a service's refusal on the form that asked for it: each reason beside its field, and
    on the form itself the reasons about fields it does not show (or the message, if the error
    names no field). The one place HTML views turn a `ServiceError` into what people read."""
    if not error.fields:
        form.add_error(None, error.message)
    for name, reasons in error.fields.items():
        for reason in reasons:
            form.add_error(name if name in form.fields else None, reason)
