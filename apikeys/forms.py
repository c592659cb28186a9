from django import forms

from apikeys.models import ApiKey


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "mode"]
        widgets = {"mode": forms.RadioSelect}
