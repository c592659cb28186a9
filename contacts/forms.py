from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.models import (
    ConsentStatus,
    ContactField,
    ContactList,
    DuplicatePolicy,
    FieldType,
    Salutation,
    Segment,
)

BUILTIN_LABELS = {
    "email": _("Email"),
    "mobile": _("Mobile"),
    "salutation": _("Salutation"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "birth_date": _("Birth date"),
    "zip_code": _("Zip code"),
    "city": _("City"),
    "country": _("Country"),
    "company": _("Company"),
}


def custom_form_name(key: str) -> str:
    return f"f_{key}"


class ContactForm(forms.Form):
    """Raw input only: values are normalised and validated by the contact services, whose
    per-field errors are put back on the form."""

    email = forms.CharField(label=BUILTIN_LABELS["email"], required=False)
    mobile = forms.CharField(label=BUILTIN_LABELS["mobile"], required=False)
    salutation = forms.ChoiceField(
        label=BUILTIN_LABELS["salutation"],
        required=False,
        choices=[("", "—"), *Salutation.choices],
    )
    first_name = forms.CharField(label=BUILTIN_LABELS["first_name"], required=False)
    last_name = forms.CharField(label=BUILTIN_LABELS["last_name"], required=False)
    birth_date = forms.CharField(
        label=BUILTIN_LABELS["birth_date"], required=False, help_text=_("DD/MM/YYYY")
    )
    zip_code = forms.CharField(label=BUILTIN_LABELS["zip_code"], required=False)
    city = forms.CharField(label=BUILTIN_LABELS["city"], required=False)
    country = forms.CharField(label=BUILTIN_LABELS["country"], required=False)
    company = forms.CharField(label=BUILTIN_LABELS["company"], required=False)
    email_status = forms.ChoiceField(label=_("Email consent"), choices=ConsentStatus.choices)
    sms_status = forms.ChoiceField(label=_("SMS consent"), choices=ConsentStatus.choices)

    def __init__(self, *args, custom_fields: list[ContactField], **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_fields = custom_fields
        for field in custom_fields:
            name = custom_form_name(field.key)
            label = field.display_label
            if field.type == FieldType.BOOLEAN:
                self.fields[name] = forms.ChoiceField(
                    label=label,
                    required=False,
                    choices=[("", "—"), ("true", _("Yes")), ("false", _("No"))],
                )
            elif field.type == FieldType.CHOICE:
                self.fields[name] = forms.ChoiceField(
                    label=label,
                    required=False,
                    choices=[("", "—")] + [(c, c) for c in field.choices],
                )
            elif field.type == FieldType.MULTICHOICE:
                self.fields[name] = forms.MultipleChoiceField(
                    label=label,
                    required=False,
                    choices=[(c, c) for c in field.choices],
                    widget=forms.CheckboxSelectMultiple,
                )
            else:
                self.fields[name] = forms.CharField(label=label, required=False)

    def contact_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in BUILTIN_LABELS}
        data["email_status"] = self.cleaned_data["email_status"]
        data["sms_status"] = self.cleaned_data["sms_status"]
        data["fields"] = {
            field.key: self.cleaned_data[custom_form_name(field.key)]
            for field in self.custom_fields
        }
        return data


class ContactFieldForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=100)
    key = forms.SlugField(
        label=_("Key"),
        max_length=63,
        help_text=_("Used in the API, imports and merge tags, e.g. loyalty_points."),
    )
    type = forms.ChoiceField(label=_("Type"), choices=FieldType.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        help_text=_("For choice fields: one choice per line."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["choices"].splitlines() if line.strip()]


class ContactListForm(forms.ModelForm):
    class Meta:
        model = ContactList
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or Excel file"),
        help_text=_("CSV separated by ; , or tab (UTF-8 or Windows-1252), or XLSX."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )


class ImportOptionsForm(forms.Form):
    duplicate_policy = forms.ChoiceField(
        label=_("Existing contacts"),
        choices=DuplicatePolicy.choices,
        initial=DuplicatePolicy.UPDATE,
        widget=forms.RadioSelect,
    )
    target_list = forms.ModelChoiceField(
        label=_("Add the contacts to the list"),
        queryset=ContactList.objects.none(),
        required=False,
        empty_label=_("No list"),
    )
    email_status = forms.ChoiceField(
        label=_("Email consent of these contacts"),
        choices=ConsentStatus.choices,
        initial=ConsentStatus.NONE,
    )
    sms_status = forms.ChoiceField(
        label=_("SMS consent of these contacts"),
        choices=ConsentStatus.choices,
        initial=ConsentStatus.NONE,
    )
    consent_wording = forms.CharField(
        label=_("How did they consent?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Form, wording and date of the consent: kept as proof in the ledger."),
    )

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_list"].queryset = ContactList.objects.filter(account=account)


class ExportForm(forms.Form):
    # The values are contacts.exports.EXPORT_FORMATS (which imports this module for its labels).
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[
            ("excel_fr", _("Excel (France): CSV with ; and labels")),
            ("xlsx", _("Excel (XLSX)")),
            ("csv", _("Technical CSV (keys, ISO dates)")),
        ],
        initial="excel_fr",
        widget=forms.RadioSelect,
    )
    contact_list = forms.ModelChoiceField(
        label=_("Contacts"),
        queryset=ContactList.objects.none(),
        required=False,
        empty_label=_("All contacts"),
    )
    segment = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=Segment.objects.none(),
        required=False,
        empty_label=_("No segment"),
    )
    columns = forms.MultipleChoiceField(
        label=_("Columns"), widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args, account, columns: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_list"].queryset = ContactList.objects.filter(account=account)
        self.fields["segment"].queryset = Segment.objects.filter(account=account)
        self.fields["columns"].choices = columns
        self.fields["columns"].initial = [value for value, _label in columns]
