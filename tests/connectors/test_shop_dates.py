"""The dates Magento and PrestaShop write ("YYYY-MM-DD HH:MM:SS"), read the way both clients
and the sync read them."""

from datetime import datetime

import pytest

from connectors.shop_client import parse_shop_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-01 10:04:05", datetime(2025, 6, 1, 10, 4, 5)),
        ("2025-06-01 10:04:05.123456", datetime(2025, 6, 1, 10, 4, 5)),  # read to the second
        ("2025-06-01 10:04:05+02:00", datetime(2025, 6, 1, 10, 4, 5)),
        ("0000-00-00 00:00:00", None),  # PrestaShop's "never"
        ("2025-02-30 10:00:00", None),  # no such day
        ("2025-06-01T10:04:05", None),  # not the shops' shape
        ("2025-06-01", None),
        ("", None),
        ("10:04:05 2025-06-01", None),
    ],
)
def test_shop_dates(text, expected):
    assert parse_shop_datetime(text) == expected
