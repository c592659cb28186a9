"""Relative conditions on a date of birth: age in years (new), days ago and anniversaries; the
builder offers them for birth dates. Run on SQLite and PostgreSQL."""

from datetime import date

import pytest

from contacts.segments.builder import builder_catalog
from contacts.segments.compiler import segment_queryset
from contacts.segments.language import (
    FieldCatalog,
    SegmentRuleError,
    validate_rules,
    years_before,
)
from contacts.services.fields import field_create
from contacts.typed_values import typed_values_refresh
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def matching(account, rules, today):
    catalog = FieldCatalog.for_account(account)
    cleaned = validate_rules(rules, catalog, account)
    return set(segment_queryset(account, cleaned, today=today).values_list("email", flat=True))


@pytest.fixture
def people(account):
    field_create(account=account, key="joined", label="Adhésion", type="date")
    born = {
        "eighteen-today": date(2008, 3, 1),
        "eighteen-tomorrow": date(2008, 3, 2),
        "leapling": date(2008, 2, 29),  # 18 on 1 March in a year without 29 February
        "older": date(1960, 1, 1),
        "child": date(2020, 6, 15),
    }
    for name, day in born.items():
        ContactFactory(
            account=account,
            email=f"{name}@x.fr",
            birth_date=day,
            fields={"joined": day.isoformat()},
        )
    ContactFactory(account=account, email="unknown@x.fr")
    typed_values_refresh(account.pk)
    return account


@pytest.mark.parametrize("field", ["birth_date", "fields.joined"])
def test_age_at_least_and_at_most(people, field):
    today = date(2026, 3, 1)
    adults = matching(people, {"all": [{"field": field, "op": "age_at_least", "value": 18}]}, today)
    assert adults == {"eighteen-today@x.fr", "leapling@x.fr", "older@x.fr"}
    minors = matching(people, {"all": [{"field": field, "op": "age_at_most", "value": 17}]}, today)
    assert minors == {"eighteen-tomorrow@x.fr", "child@x.fr"}  # no birth date: in neither
    exactly = matching(
        people,
        {
            "all": [
                {"field": field, "op": "age_at_least", "value": 18},
                {"field": field, "op": "age_at_most", "value": 18},
            ]
        },
        today,
    )
    assert exactly == {"eighteen-today@x.fr", "leapling@x.fr"}


def test_a_leapling_is_not_of_age_the_day_before_1_march(people):
    rules = {"all": [{"field": "birth_date", "op": "age_at_least", "value": 18}]}
    assert "leapling@x.fr" not in matching(people, rules, date(2026, 2, 28))
    assert "leapling@x.fr" in matching(people, rules, date(2026, 3, 1))


def test_years_before_a_29_february():
    assert years_before(date(2028, 2, 29), 1) == date(2027, 2, 28)
    assert years_before(date(2028, 2, 29), 4) == date(2024, 2, 29)


def test_days_ago_and_anniversary_on_birth_dates(people):
    today = date(2026, 2, 27)
    soon = matching(
        people,
        {"all": [{"field": "birth_date", "op": "anniversary_within_days", "value": 3}]},
        today,
    )
    assert soon == {"eighteen-today@x.fr", "eighteen-tomorrow@x.fr", "leapling@x.fr"}
    long_ago = matching(
        people,
        {"all": [{"field": "birth_date", "op": "more_than_days_ago", "value": 3000}]},
        today,
    )
    assert long_ago == {
        "eighteen-today@x.fr", "eighteen-tomorrow@x.fr", "leapling@x.fr", "older@x.fr",
    }  # fmt: skip


@pytest.mark.parametrize("field", ["birth_date", "fields.joined"])
def test_anniversary_this_month_is_the_month_whatever_the_day(people, field):
    """ "Birthday this month" (the shops' ready-made segment): the month of the date, any year."""
    rule = {"all": [{"field": field, "op": "anniversary_this_month"}]}
    march = {"eighteen-today@x.fr", "eighteen-tomorrow@x.fr"}
    assert matching(people, rule, date(2026, 3, 31)) == march
    assert matching(people, rule, date(2027, 3, 1)) == march
    assert matching(people, rule, date(2026, 2, 1)) == {"leapling@x.fr"}  # no 29th this year
    assert matching(people, rule, date(2026, 12, 15)) == set()


@pytest.mark.parametrize("value", [-1, 151, 18.5, "18", True, None])
def test_an_age_is_a_whole_number_of_years(people, value):
    rules = {"all": [{"field": "birth_date", "op": "age_at_least", "value": value}]}
    with pytest.raises(SegmentRuleError) as caught:
        validate_rules(rules, FieldCatalog.for_account(people), people)
    assert "all[0]" in caught.value.errors


def test_ages_are_for_dates_not_for_datetimes(people):
    rules = {"all": [{"field": "created_at", "op": "age_at_least", "value": 1}]}
    with pytest.raises(SegmentRuleError):
        validate_rules(rules, FieldCatalog.for_account(people), people)


def test_the_builder_offers_relative_operators_for_birth_dates(people):
    catalog = builder_catalog(people)
    (birth,) = [field for field in catalog["fields"] if field["name"] == "birth_date"]
    offered = catalog["operators"][birth["type"]]
    for op in (
        "age_at_least", "age_at_most", "within_last_days", "more_than_days_ago",
        "anniversary_within_days",
    ):  # fmt: skip
        assert op in offered and op in catalog["operator_labels"]
    assert set(catalog["year_counts"]) == {"age_at_least", "age_at_most"}


def test_the_api_accepts_an_age_condition(api_client, people):
    response = api_client.post(
        "/api/v1/segments/",
        {
            "name": "Majeurs",
            "rules": {"all": [{"field": "birth_date", "op": "age_at_least", "value": 18}]},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    segment_id = response.json()["id"]
    count = api_client.get(f"/api/v1/segments/{segment_id}/").json()
    assert count["id"] == segment_id
