"""The value of an activity condition, shared by every channel that registers one (stats for
email, sms for SMS): `{"campaign": id | null, "days": int | null}`.

The channels differ in which campaigns exist and how activity is compiled; the shape of the
value, its checks and its JSON Schema are the same, so they live here, beside the registry."""

from collections.abc import Callable

from django.utils.translation import gettext as _

from contacts.normalization import InvalidValue
from contacts.segments.language import MAX_DAYS, UnknownReference

MAX_ID = 2**63 - 1
VALUE_KEYS = {"campaign", "days"}


def clean_activity_value(value, *, campaign_exists: Callable[[int], bool], no_such: str) -> dict:
    """Check an activity value; `no_such` is the message for a campaign id that names nothing
    (with `%(value)s`). Raises InvalidValue saying what is wrong, or UnknownReference (a 404 in
    the API, as in a URL) for a well-formed id the account has no campaign for."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InvalidValue(
            _('the value must be an object: {"campaign": id or null, "days": number or null}')
        )
    unknown_keys = set(value) - VALUE_KEYS
    if unknown_keys:
        raise InvalidValue(_("unknown keys: %(keys)s") % {"keys": ", ".join(sorted(unknown_keys))})
    campaign, days = value.get("campaign"), value.get("days")
    if campaign is not None and (
        isinstance(campaign, bool) or not isinstance(campaign, int) or not 0 < campaign <= MAX_ID
    ):
        raise InvalidValue(no_such % {"value": campaign})
    if campaign is not None and not campaign_exists(campaign):
        raise UnknownReference(no_such % {"value": campaign})
    if days is not None and (
        isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS
    ):
        raise InvalidValue(
            _("“days” must be a whole number between 1 and %(max)d, or null for any time")
            % {"max": MAX_DAYS}
        )
    return {"campaign": campaign, "days": days}


def activity_value_schema(campaign_description: str) -> dict:
    """The JSON Schema (draft 7) the API publishes for an activity value."""
    return {
        "type": ["object", "null"],
        "description": "Null, or omitted, is any campaign at any time.",
        "properties": {
            "campaign": {
                "type": ["integer", "null"],
                "format": "int64",
                "minimum": 1,
                "maximum": MAX_ID,
                "description": campaign_description,
            },
            "days": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": MAX_DAYS,
                "description": "Within the last N days; null: any time.",
            },
        },
        "additionalProperties": False,
    }
