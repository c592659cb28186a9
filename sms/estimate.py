"""What an SMS will cost before it is sent: its encoding and segments, the characters that force
UCS-2 with their GSM-7 replacements, and for an audience the total segments and the price.

Merge values are counted at their longest value in the audience (the estimate is an upper
bound); the engine counts each message exactly when it renders it (what is billed)."""

from dataclasses import dataclass, field
from decimal import Decimal

import phonenumbers
from django.conf import settings
from django.db.models import Count, F, Max, Min
from django.db.models.fields.json import KT
from django.db.models.functions import Length, Substr

from campaigns import merge_tags
from contacts.models import Contact
from sms import short_links as shortening
from sms.account_settings import opt_out_mention, sms_settings_of
from sms.composing import campaign_text
from sms.encoding import SmsCount, count, suggest_replacements
from sms.models import SmsMessage

# Contact columns a tag may name (the others are the account's, the same for everyone).
COLUMN_TAGS = {"first_name", "last_name", "email", "city", "company", "zip_code"}


@dataclass
class Estimate:
    text: str
    counted: SmsCount
    replacements: dict[str, str]
    text_after_replacements: str
    segments_saved: int
    recipients: int = 0
    total_segments: int = 0
    currency: str = "EUR"
    cost: Decimal = Decimal(0)
    by_country: list[dict] = field(default_factory=list)


def longest_values(contacts, text: str, account) -> dict[str, str]:
    """For each merge tag of `text`, the audience's longest value (the account's own values for
    account tags). Unknown tags render empty, as at send time."""
    values = {"account.name": account.name, "account.postal_address": account.postal_address}
    for match in merge_tags.TAG.finditer(text):
        name = match.group("name")
        if name in values:
            continue
        if name in COLUMN_TAGS:
            expression = Length(name)
            pick = F(name)
        elif name.startswith("fields."):
            key = name.removeprefix("fields.")
            expression = Length(KT(f"fields__{key}"))
            pick = KT(f"fields__{key}")
        else:
            values[name] = ""
            continue
        row = (
            contacts.annotate(_length=expression, _value=pick)
            .exclude(_length=None)
            .order_by("-_length")
            .values_list("_value", flat=True)
            .first()
        )
        values[name] = str(row or "")
    return values


def _region(sample) -> str:
    """The country of a number (E.164 text, or the PhoneNumber a contact's column holds)."""
    try:
        number = (
            sample if isinstance(sample, phonenumbers.PhoneNumber) else phonenumbers.parse(sample)
        )
        return phonenumbers.region_code_for_number(number) or "*"
    except phonenumbers.NumberParseException:
        return "*"


def price_per_segment(currency: str, region: str) -> Decimal:
    table = settings.SMS_PRICES.get(currency) or {}
    return Decimal(str(table.get(region, table.get("*", "0"))))


def with_sample_short_links(text: str, recipients: int) -> str:
    """`text` with its links as short links of their real length: a message id is written in
    base 62, so its length is that of the ids this audience's messages will get."""
    last = SmsMessage.objects.aggregate(last=Max("pk"))["last"] or 0
    return shortening.fill_in(shortening.with_placeholders(text), last + max(recipients, 1))


def estimate(
    *, account, text: str, marketing: bool, contacts=None, short_links: bool = False
) -> Estimate:
    """`contacts`: the audience (a queryset of Contact), or None for the text alone.
    `short_links`: the links counted as the short links that will replace them."""
    full_text = campaign_text(text, marketing=marketing, opt_out=opt_out_mention(account))
    if short_links:
        full_text = with_sample_short_links(
            full_text, contacts.count() if contacts is not None else 1
        )
    sample_values = longest_values(
        contacts if contacts is not None else Contact.objects.none(), full_text, account
    )
    rendered = merge_tags.render(full_text, sample_values, escape=False)
    counted = count(rendered)
    suggestion = suggest_replacements(rendered)
    result = Estimate(
        text=rendered,
        counted=counted,
        replacements=suggestion.replacements,
        text_after_replacements=suggest_replacements(text).text,
        segments_saved=suggestion.segments_saved,
        currency=sms_settings_of(account).currency,
    )
    if contacts is None:
        return result
    # Numbers grouped by their first digits (country and operator prefix), one sample each for
    # the country: a few dozen groups whatever the audience's size.
    groups = (
        contacts.order_by()
        .annotate(prefix=Substr("mobile", 1, 5))
        .values("prefix")
        .annotate(n=Count("pk"), sample=Min("mobile"))
    )
    by_region: dict[str, int] = {}
    for group in groups:
        region = _region(group["sample"])
        by_region[region] = by_region.get(region, 0) + group["n"]
    for region, recipients in sorted(by_region.items()):
        price = price_per_segment(result.currency, region)
        segments = recipients * counted.segments
        result.by_country.append(
            {
                "country": region,
                "recipients": recipients,
                "segments": segments,
                "price_per_segment": price,
                "cost": price * segments,
            }
        )
        result.recipients += recipients
        result.total_segments += segments
        result.cost += price * segments
    return result
