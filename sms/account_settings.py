"""An account's SMS settings read with their defaults: the opt-out mention (per provider), the
currency of estimates, and the sending window (only ever narrower than the legal one)."""

from django.conf import settings
from django.utils.module_loading import import_string

from sms.models import SmsSettings
from sms.quiet_hours import LEGAL, Window


def sms_settings_of(account) -> SmsSettings:
    """The account's row, or an unsaved one holding the defaults."""
    found = SmsSettings.objects.filter(account=account).first()
    return found or SmsSettings(account=account)


def current_provider() -> str:
    """The provider name of the configured backend ("twilio"…), "" for the local ones."""
    return getattr(import_string(settings.SMS_BACKEND), "provider", "")


def opt_out_mention(account, provider: str | None = None, *, sms_settings=None) -> str:
    chosen = sms_settings or sms_settings_of(account)
    provider = current_provider() if provider is None else provider
    return (
        (chosen.opt_out_by_provider or {}).get(provider)
        or chosen.opt_out_mention
        or settings.SMS_OPT_OUT_MENTION
    )


def sending_window(account, *, sms_settings=None) -> Window:
    chosen = sms_settings or sms_settings_of(account)
    if (chosen.window_start, chosen.window_end) == (LEGAL.start, LEGAL.end):
        return LEGAL
    return LEGAL.narrowed(chosen.window_start, chosen.window_end)
