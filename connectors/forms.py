"""Forms of the connector settings page. Credentials are write-only: never rendered back."""

from django import forms
from django.utils.translation import gettext_lazy as _

from connectors.credentials import ShopCredentials
from connectors.models import Platform, ShopConnection
from contacts.models import ContactList


class ShopConnectionForm(forms.ModelForm):
    consumer_key = forms.CharField(label=_("Consumer key"), required=False)
    consumer_secret = forms.CharField(
        label=_("Consumer secret"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    access_token = forms.CharField(
        label=_("Access token"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    access_token_secret = forms.CharField(
        label=_("Access token secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    store_view_codes = forms.CharField(
        label=_("Store views"),
        required=False,
        help_text=_("Store view codes separated by commas (e.g. default, fr_be); empty: all."),
    )

    class Meta:
        model = ShopConnection
        fields = [
            "name", "platform", "shop_url", "auth_method", "data_scope", "write_back",
            "soft_optin_marketable", "newsletter_instant_add", "newsletter_list",
            "sync_interval_hours", "cart_delay_hours", "first_import_at",
        ]  # fmt: skip
        widgets = {"first_import_at": forms.DateTimeInput(attrs={"type": "datetime-local"})}

    def __init__(self, *args, account, platform: str = Platform.MAGENTO, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            platform = self.instance.platform
        self.platform = platform if platform in Platform.values else Platform.MAGENTO
        self.fields["newsletter_list"].queryset = ContactList.objects.filter(account=account)
        # The platform is chosen before the form (its fields differ) and never changed after.
        self.fields["platform"].choices = Platform.choices
        self.fields["platform"].widget = forms.HiddenInput()
        self.initial["platform"] = self.platform
        if self.platform == Platform.PRESTASHOP:
            for name in ("consumer_key", "consumer_secret", "access_token",
                         "access_token_secret", "auth_method"):  # fmt: skip
                del self.fields[name]
            self.fields["webservice_key"] = forms.CharField(
                label=_("Webservice key"),
                required=not self.instance.pk,
                min_length=32,
                max_length=32,
                widget=forms.PasswordInput(render_value=False),
                help_text=_("32 characters (Advanced Parameters › Webservice)."),
            )
            self.fields["store_view_codes"].label = _("Shops")
            self.fields["store_view_codes"].help_text = _(
                "Ids of the shops to sync, separated by commas (Test the connection lists them); "
                "empty: every shop."
            )
            self.order_fields(["name", "platform", "shop_url", "webservice_key"])
        if self.instance.pk and self.instance.discovered_views:
            self._offer_discovered_views()
        elif self.instance.pk:
            self.fields["store_view_codes"].initial = ", ".join(self.instance.store_views)
        if self.instance.pk:
            for name in ("consumer_key", "consumer_secret", "access_token", "access_token_secret",
                         "webservice_key"):  # fmt: skip
                if name in self.fields:
                    self.fields[name].help_text = _("Leave empty to keep the stored value.")
            del self.fields["first_import_at"]

    def _offer_discovered_views(self) -> None:
        """The views (Magento) or shops (PrestaShop) the connection test found, as boxes to
        tick; none ticked: all of them. A selection the shop no longer has stays offered."""
        prestashop = self.platform == Platform.PRESTASHOP
        choices = [
            (str(view["id"]) if prestashop else view["code"], f"{view['id']} — {view['name']}")
            for view in self.instance.discovered_views
        ]
        known = {value for value, _label in choices}
        choices += [(code, code) for code in self.instance.store_views if code not in known]
        field = self.fields["store_view_codes"]
        self.fields["store_view_codes"] = forms.MultipleChoiceField(
            label=field.label,
            required=False,
            choices=choices,
            widget=forms.CheckboxSelectMultiple,
            initial=list(self.instance.store_views),
            help_text=_("None ticked: every one."),
        )

    def clean_platform(self) -> str:
        return self.platform

    def clean_store_view_codes(self) -> list[str]:
        raw = self.cleaned_data.get("store_view_codes") or ""
        if isinstance(raw, list):  # ticked boxes
            return raw
        codes = [code.strip() for code in raw.split(",") if code.strip()]
        if self.platform == Platform.PRESTASHOP and not all(code.isdigit() for code in codes):
            raise forms.ValidationError(_("Shop ids are numbers (e.g. 1, 3)."))
        return codes

    def clean(self):
        cleaned = super().clean()
        if self.platform == Platform.PRESTASHOP:
            return cleaned
        given = [
            cleaned.get(name)
            for name in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
        ]
        if not self.instance.pk and not cleaned.get("access_token"):
            self.add_error("access_token", _("The integration's access token is required."))
        oauth = cleaned.get("auth_method") == ShopConnection.AuthMethod.OAUTH1
        if oauth and any(given) and not all(given):
            self.add_error(
                "consumer_key",
                _("OAuth 1.0a needs the four values of the integration (System › Integrations)."),
            )
        return cleaned

    def credentials(self) -> ShopCredentials | None:
        data = self.cleaned_data
        if self.platform == Platform.PRESTASHOP:
            # The webservice key is kept as the access token (connectors.platforms).
            key = (data.get("webservice_key") or "").strip()
            return ShopCredentials(access_token=key) if key else None
        values = {
            name: data.get(name) or ""
            for name in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
        }
        if not any(values.values()):
            return None
        return ShopCredentials(**values)

    def options(self) -> dict:
        data = dict(self.cleaned_data)
        for name in (
            "consumer_key", "consumer_secret", "access_token", "access_token_secret",
            "store_view_codes", "webservice_key",
        ):  # fmt: skip
            data.pop(name, None)
        data["store_views"] = self.cleaned_data.get("store_view_codes") or []
        return data
