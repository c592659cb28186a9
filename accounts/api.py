import zoneinfo

import phonenumbers

from accounts.api_fields import StrictChoiceField, StrictModelSerializer
from accounts.models import Account

# What the model's validators accept, said in the schema as enums (schema-valid values were
# refused before: any text passed for a time zone or a region).
TIMEZONES = sorted(zoneinfo.available_timezones())
PHONE_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


class AccountSerializer(StrictModelSerializer):
    timezone = StrictChoiceField(choices=TIMEZONES, required=False, help_text="IANA time zone.")
    default_phone_region = StrictChoiceField(
        choices=PHONE_REGIONS,
        required=False,
        help_text="Region (ISO 3166 code) of phone numbers given without an international prefix.",
    )

    class Meta:
        model = Account
        fields = ["number", "name", "timezone", "language", "default_phone_region", "contact_key"]
        fields += ["postal_address"]
        fields += ["created_at"]
        read_only_fields = ["number", "contact_key", "created_at"]
