from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import EmailCampaign, SenderAddress
from contacts.models import ContactList, Segment


class CampaignForm(forms.ModelForm):
    class Meta:
        model = EmailCampaign
        fields = [
            "name", "subject", "preheader", "sender", "reply_to", "html", "lists", "segments",
            "excluded_lists", "excluded_segments", "track_opens", "track_clicks",
        ]  # fmt: skip
        widgets = {
            "html": forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
            "lists": forms.SelectMultiple(attrs={"size": 4}),
            "segments": forms.SelectMultiple(attrs={"size": 4}),
            "excluded_lists": forms.SelectMultiple(attrs={"size": 3}),
            "excluded_segments": forms.SelectMultiple(attrs={"size": 3}),
        }
        labels = {
            "sender": _("Sender"),
            "lists": _("Send to the lists"),
            "segments": _("and to the segments"),
            "excluded_lists": _("Except the lists"),
            "excluded_segments": _("Except the segments"),
        }

    utm_source = forms.CharField(label="utm_source", max_length=200, required=False)
    utm_medium = forms.CharField(label="utm_medium", max_length=200, required=False)
    utm_campaign = forms.CharField(
        label="utm_campaign",
        max_length=200,
        required=False,
        help_text=_("Added to every web link of the email, for your web analytics."),
    )
    UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign")

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.UTM_FIELDS:
            self.fields[name].initial = (self.instance.utm_parameters or {}).get(name, "")
        self.fields["sender"].queryset = SenderAddress.objects.filter(account=account)
        self.fields["sender"].empty_label = _("Choose a sender address")
        for name in ("lists", "excluded_lists"):
            self.fields[name].queryset = ContactList.objects.filter(account=account)
            self.fields[name].required = False
        for name in ("segments", "excluded_segments"):
            self.fields[name].queryset = Segment.objects.filter(account=account)
            self.fields[name].required = False
        self.fields["html"].help_text = _(
            'Merge tags: {{ first_name }}, {{ fields.key }}, {{ first_name | default:"…" }}; '
            "the unsubscribe link {{ unsubscribe_url }} is required."
        )

    def clean(self):
        cleaned = super().clean()
        utm = dict(self.instance.utm_parameters or {})  # utm_term/utm_content set by the API stay
        for name in self.UTM_FIELDS:
            utm[name] = cleaned.pop(name, "").strip()
        cleaned["utm_parameters"] = {key: value for key, value in utm.items() if value}
        return cleaned


class ScheduleForm(forms.Form):
    at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: send now. In your account's time zone."),
    )


class SendTestForm(forms.Form):
    recipients = forms.CharField(
        label=_("Test addresses"), help_text=_("Up to 10, separated by commas.")
    )

    def clean_recipients(self):
        from django.core.validators import validate_email

        addresses = [a.strip() for a in self.cleaned_data["recipients"].split(",") if a.strip()]
        for address in addresses:
            validate_email(address)
        if not 1 <= len(addresses) <= 10:
            raise forms.ValidationError(_("Give between 1 and 10 addresses."))
        return addresses


class SenderForm(forms.Form):
    name = forms.CharField(label=_("Sender name"), max_length=100)
    email = forms.EmailField(label=_("Sender address"))


class DkimForm(forms.Form):
    domain = forms.CharField(label=_("Sending domain"), max_length=253)
