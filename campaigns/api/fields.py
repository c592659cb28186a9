"""Serializer fields of the campaign API: UTM parameters. (Ids of the account's objects are
accounts.api_fields.AccountObjects, shared by every channel's API.)"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.links import UTM_KEYS


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            key: {"type": "string", "maxLength": 200, "pattern": "^[^\\u0000]*$"}
            for key in UTM_KEYS
        },
        "additionalProperties": False,
    }
)
class UtmField(serializers.DictField):
    """The five standard UTM keys (campaigns.links.clean_utm refuses any other)."""
