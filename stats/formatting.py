"""Rates as people read them: rounded half up, never truncated (3/7 is 42,9 %, not 42,8 %)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import formats


def percent_number(rate, decimals: int) -> Decimal:
    """A rate between 0 and 1 as a percentage rounded half up to `decimals` places.

    Django's number_format cuts extra decimals off; and 0.4286 * 100 is 42.859999… as a float,
    so the rounding is done on the decimal text of the rate."""
    try:
        number = Decimal(str(rate or 0)) * 100
    except InvalidOperation:
        raise ValueError(f"not a rate: {rate!r}") from None
    return number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def percent_text(rate, decimals: int = 1) -> str:
    """The rounded percentage in the active language's number format, without the % sign."""
    return formats.number_format(percent_number(rate, decimals), decimals)
