"""Rates are rounded half up, never truncated: 3 opens out of 7 is 42,9 %, not 42,8 %."""

import pytest
from django.utils import translation

from stats.formatting import percent_text
from stats.selectors.campaigns import rate
from stats.templatetags.stats_format import percent


@pytest.mark.parametrize(
    ("part", "whole", "french", "english"),
    [
        (3, 7, "42,9\u00a0%", "42.9\u00a0%"),
        (2, 3, "66,7\u00a0%", "66.7\u00a0%"),
        (1, 8, "12,5\u00a0%", "12.5\u00a0%"),
        (1, 3, "33,3\u00a0%", "33.3\u00a0%"),
        (7, 7, "100,0\u00a0%", "100.0\u00a0%"),
        (0, 7, "0,0\u00a0%", "0.0\u00a0%"),
        (1, 1999, "0,1\u00a0%", "0.1\u00a0%"),
    ],
)
def test_the_report_filter_rounds_rates(part, whole, french, english):
    with translation.override("fr"):
        assert percent(rate(part, whole)) == french
    with translation.override("en"):
        assert percent(rate(part, whole)) == english


def test_the_csv_report_rounds_to_two_decimals_where_a_float_would_truncate():
    # rate(3, 7) is 0.4286, and 0.4286 * 100 is 42.859999… as a float: truncation gave 42,85.
    with translation.override("fr"):
        assert percent_text(rate(3, 7), 2) == "42,86"
        assert percent_text(0.0005, 1) == "0,1"
    with translation.override("en"):
        assert percent_text(rate(1, 3), 2) == "33.33"


def test_a_missing_rate_reads_as_zero_and_garbage_as_nothing():
    with translation.override("fr"):
        assert percent(None) == "0,0\u00a0%"
        assert percent("not a number") == ""
