from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.models import ContactList, Segment
from sms.models import SmsCampaign, SmsSender


class SmsCampaignForm(forms.ModelForm):
    class Meta:
        model = SmsCampaign
        fields = ["name", "kind", "sender", "text", "short_links", "lists", "segments"]
        widgets = {"text": forms.Textarea(attrs={"rows": 6, "data-sms-text": ""})}

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sender"].queryset = SmsSender.objects.filter(account=account)
        self.fields["lists"].queryset = ContactList.objects.filter(account=account)
        self.fields["segments"].queryset = Segment.objects.filter(account=account)
        self.fields["lists"].required = False
        self.fields["segments"].required = False
        self.fields["text"].label = _("Text of the SMS")
        self.fields["name"].label = _("Name")
        self.fields["kind"].label = _("Kind")
        self.fields["short_links"].label = _("Shorten and track the links")
        self.fields["short_links"].help_text = _(
            "Each link becomes a short link of its own per recipient, counted as a click."
        )
        self.fields["sender"].label = _("Sender")
        self.fields["lists"].label = _("Send to the lists")
        self.fields["segments"].label = _("and to the segments")


class SmsSenderForm(forms.Form):
    value = forms.CharField(label=_("Sender"), max_length=16)


class SmsTestForm(forms.Form):
    mobile = forms.CharField(label=_("Mobile number"), max_length=16)


class SmsScheduleForm(forms.Form):
    at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
