"""Segment rules: a bad rule is refused with the path of each bad node and what is wrong with it,
and a good one comes back with its values normalised."""

import pytest
from django.db.models import Q
from django.utils import translation

from contacts.normalization import InvalidValue
from contacts.segments.language import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    REGISTRY,
    FieldCatalog,
    RegisteredCondition,
    SegmentRuleError,
    validate_rules,
)
from contacts.services.fields import field_create
from tests.factories import AccountFactory, ContactListFactory

pytestmark = pytest.mark.django_db

TOP_IS_A_GROUP = 'the top of a rule is a group: {"all": [...]}'
ONE_KEY = "a group has exactly one key: “all” or “any”"
WHOLE_DAYS = "the value must be a whole number of days between 0 and 3660"
TWO_VALUES = "“between” needs a list of two values: [low, high]"
NON_EMPTY_LIST = "the value must be a non-empty list"
CITY_IS_PARIS = {"field": "city", "op": "eq", "value": "Paris"}


@pytest.fixture(autouse=True)
def english_messages():
    # The messages are translated; asserting on the English source keeps the tests independent
    # of the French catalogue.
    with translation.override("en"):
        yield


@pytest.fixture
def fields(account):
    field_create(account=account, key="points", label="Points", type="number")
    field_create(account=account, key="spent", label="Montant", type="decimal")
    field_create(account=account, key="last_order", label="Dernière commande", type="date")
    field_create(account=account, key="vip", label="VIP", type="boolean")
    field_create(
        account=account, key="shop", label="Magasin", type="choice", choices=["Paris", "Lyon"]
    )
    field_create(
        account=account, key="tags", label="Tags", type="multichoice", choices=["bio", "vin"]
    )
    field_create(account=account, key="note", label="Note", type="text")


@pytest.fixture
def contact_list(account):
    return ContactListFactory(account=account, name="Newsletter")


def validate(account, rules):
    return validate_rules(rules, FieldCatalog.for_account(account), account)


def errors_of(account, rules) -> dict[str, str]:
    with pytest.raises(SegmentRuleError) as caught:
        validate(account, rules)
    return caught.value.errors


def nested(depth: int, leaf: dict) -> dict:
    """`depth` groups, one inside the other, around `leaf`."""
    node = leaf
    for _ in range(depth):
        node = {"all": [node]}
    return node


# --- Structure ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rules",
    [
        None,
        [],
        [CITY_IS_PARIS],
        "city = Paris",
        {},
        CITY_IS_PARIS,
        {"none": [CITY_IS_PARIS]},
    ],
    ids=["none", "empty list", "list", "text", "empty object", "condition", "unknown group"],
)
def test_the_top_of_a_rule_is_a_group(account, rules):
    assert errors_of(account, rules) == {"rules": TOP_IS_A_GROUP}


def test_a_group_has_one_key(account):
    assert errors_of(account, {"all": [], "any": []}) == {"rules": ONE_KEY}
    assert errors_of(account, {"all": [CITY_IS_PARIS], "name": "Paris"}) == {"rules": ONE_KEY}
    assert errors_of(account, {"all": [{"any": [], "field": "city"}]}) == {"all[0]": ONE_KEY}


def test_a_group_holds_a_list_of_objects(account):
    assert errors_of(account, {"all": CITY_IS_PARIS}) == {"rules": "“all” must be a list"}
    assert errors_of(account, {"all": [{"any": "city"}]}) == {"all[0]": "“any” must be a list"}
    assert errors_of(account, {"any": [CITY_IS_PARIS, "city", None]}) == {
        "any[1]": "must be a group or a condition object",
        "any[2]": "must be a group or a condition object",
    }


def test_groups_nest_at_most_max_depth(account):
    deepest_allowed = nested(MAX_DEPTH, CITY_IS_PARIS)
    assert validate(account, deepest_allowed) == deepest_allowed

    too_deep = nested(MAX_DEPTH + 1, CITY_IS_PARIS)
    path = ".".join(["all[0]"] * MAX_DEPTH)
    assert errors_of(account, too_deep) == {path: f"groups nest at most {MAX_DEPTH} deep"}


def test_at_most_max_conditions(account):
    rules = {"all": [CITY_IS_PARIS] * MAX_CONDITIONS}
    assert validate(account, rules) == rules

    rules = {"any": [{"all": [CITY_IS_PARIS] * MAX_CONDITIONS}, CITY_IS_PARIS]}
    assert errors_of(account, rules) == {"any[1]": f"at most {MAX_CONDITIONS} conditions"}


def test_the_path_of_a_nested_bad_node(account, fields):
    rules = {
        "all": [
            CITY_IS_PARIS,
            {"any": [{"field": "fields.nope", "op": "eq", "value": "x"}, CITY_IS_PARIS]},
        ]
    }

    assert errors_of(account, rules) == {"all[1].any[0]": "unknown field: fields.nope"}


def test_every_bad_node_is_reported_at_once(account, fields):
    rules = {
        "any": [
            {"field": "nope", "op": "eq", "value": "x"},
            CITY_IS_PARIS,
            {"all": [CITY_IS_PARIS, {"field": "city", "op": "gt", "value": 3}]},
            {"all": [{"any": [{"field": "fields.points", "op": "gt", "value": "many"}]}]},
        ]
    }

    assert errors_of(account, rules) == {
        "any[0]": "unknown field: nope",
        "any[2].all[1]": (
            "operator “gt” is not valid for a text field; use one of: eq, neq, contains, "
            "not_contains, starts_with, ends_with, is_empty, is_not_empty, in"
        ),
        "any[3].all[0].any[0]": "not a number: many",
    }


# --- Conditions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"op": "eq", "value": "x"}, "a condition needs a field"),
        ({"field": "", "op": "eq", "value": "x"}, "a condition needs a field"),
        ({"field": 3, "op": "eq", "value": "x"}, "a condition needs a field"),
        ({"field": "shoe_size", "op": "eq", "value": "42"}, "unknown field: shoe_size"),
        ({"field": "fields.nope", "op": "is_empty"}, "unknown field: fields.nope"),
        # A custom field is only reached through `fields.`, a built-in column never is.
        ({"field": "points", "op": "gt", "value": 1}, "unknown field: points"),
        ({"field": "fields.city", "op": "eq", "value": "x"}, "unknown field: fields.city"),
        (
            {"field": "city", "op": "eq", "value": "x", "negate": True},
            "unknown keys: negate",
        ),
    ],
)
def test_a_condition_names_a_known_field(account, fields, condition, message):
    assert errors_of(account, {"all": [condition]}) == {"all[0]": message}


def test_a_field_of_another_account_is_unknown(account, fields):
    other = AccountFactory()
    field_create(account=other, key="size", label="Taille", type="number")

    rules = {"all": [{"field": "fields.size", "op": "gt", "value": 1}]}
    assert errors_of(account, rules) == {"all[0]": "unknown field: fields.size"}


@pytest.mark.parametrize(
    ("field", "op", "field_type"),
    [
        ("city", "gt", "text"),
        ("email", "any_of", "email"),
        ("mobile", "between", "phone"),
        ("fields.points", "contains", "number"),
        ("fields.spent", "is_true", "decimal"),
        ("fields.last_order", "eq", "date"),
        ("birth_date", "gt", "date"),
        ("fields.vip", "eq", "boolean"),
        ("fields.shop", "eq", "choice"),
        ("salutation", "in", "choice"),
        ("fields.tags", "contains", "multichoice"),
        ("email_status", "eq", "consent"),
        ("list", "in", "list"),
        ("suppressed", "is_empty", "suppressed"),
        ("city", "like", "text"),
        ("city", None, "text"),
    ],
)
def test_an_operator_must_suit_the_field_type(account, fields, field, op, field_type):
    errors = errors_of(account, {"all": [{"field": field, "op": op, "value": 1}]})

    assert list(errors) == ["all[0]"]
    assert errors["all[0]"].startswith(
        f"operator “{op}” is not valid for a {field_type} field; use one of: "
    )


def test_the_operator_message_lists_the_valid_ones(account):
    errors = errors_of(account, {"all": [{"field": "suppressed", "op": "eq", "value": True}]})

    assert errors == {
        "all[0]": "operator “eq” is not valid for a suppressed field; use one of: is_true, is_false"
    }


@pytest.mark.parametrize(
    ("field", "op", "value", "message"),
    [
        # Day counts: whole numbers in range, not text, floats or booleans.
        ("fields.last_order", "within_last_days", "7", WHOLE_DAYS),
        ("fields.last_order", "more_than_days_ago", 1.5, WHOLE_DAYS),
        ("fields.last_order", "within_next_days", True, WHOLE_DAYS),
        ("birth_date", "anniversary_within_days", -1, WHOLE_DAYS),
        ("birth_date", "anniversary_within_days", 3661, WHOLE_DAYS),
        ("birth_date", "within_last_days", None, WHOLE_DAYS),
        # between: exactly two values, in a list.
        ("fields.points", "between", [1], TWO_VALUES),
        ("fields.points", "between", [1, 2, 3], TWO_VALUES),
        ("fields.points", "between", "1-3", TWO_VALUES),
        ("fields.last_order", "between", {"low": "2024-01-01"}, TWO_VALUES),
        # Dates.
        ("fields.last_order", "on", "31/02/2024", "impossible date: 31/02/2024"),
        ("birth_date", "before", "2023-02-29", "impossible date: 2023-02-29"),
        (
            "birth_date",
            "after",
            "yesterday",
            "unrecognised date: yesterday; use DD/MM/YYYY or YYYY-MM-DD",
        ),
        (
            "fields.last_order",
            "between",
            ["2024-01-01", "soon"],
            "unrecognised date: soon; use DD/MM/YYYY or YYYY-MM-DD",
        ),
        # Numbers.
        ("fields.points", "gt", "many", "not a number: many"),
        ("fields.spent", "lte", True, "not a number: True"),
        ("fields.spent", "between", [0, "NaN"], "not a number: NaN"),
        # Text needs something to compare with.
        ("city", "eq", "", "a value is required"),
        ("first_name", "contains", "   ", "a value is required"),
        ("email", "starts_with", None, "a value is required"),
        ("zip_code", "in", [], NON_EMPTY_LIST),
        ("zip_code", "in", "75001", NON_EMPTY_LIST),
        ("fields.note", "in", ["ok", " "], "a value is required"),
        # Choices.
        ("fields.shop", "any_of", ["Marseille"], "“Marseille” is not one of: Paris, Lyon"),
        ("fields.shop", "none_of", ["Paris", "Nice"], "“Nice” is not one of: Paris, Lyon"),
        ("fields.tags", "all_of", ["bio", "gluten"], "“gluten” is not one of: bio, vin"),
        ("salutation", "any_of", ["dr"], "“dr” is not one of: mr, mrs"),
        ("fields.shop", "any_of", [], NON_EMPTY_LIST),
        ("fields.tags", "any_of", "bio", NON_EMPTY_LIST),
        # Consent statuses.
        ("email_status", "in", ["subscribed", "maybe"], "unknown consent status: maybe"),
        ("sms_status", "not_in", ["yes", "no"], "unknown consent status: yes, no"),
        ("sms_status", "in", "subscribed", NON_EMPTY_LIST),
        # Lists (see also the list of another account below).
        ("list", "in_list", "Newsletter", "no such list: Newsletter"),
        ("list", "not_in_list", True, "no such list: True"),
        ("list", "in_list", None, "no such list: None"),
    ],
)
def test_a_bad_value_is_refused(account, fields, contact_list, field, op, value, message):
    rules = {"any": [CITY_IS_PARIS, {"field": field, "op": op, "value": value}]}

    assert errors_of(account, rules) == {"any[1]": message}


def test_a_list_of_another_account_is_refused(account, contact_list):
    other_list = ContactListFactory(account=AccountFactory(), name="Newsletter")

    rules = {"all": [{"field": "list", "op": "in_list", "value": other_list.pk}]}
    assert errors_of(account, rules) == {"all[0]": f"no such list: {other_list.pk}"}
    rules = {"all": [{"field": "list", "op": "in_list", "value": contact_list.pk}]}
    assert validate(account, rules) == rules


def test_a_registered_condition_checks_its_operator_and_value(account, monkeypatch):
    # given: a condition another app registers (the statistics app registers email activity,
    # tested in tests/stats/test_segments_activity.py)
    def clean(account, op, value):
        if value != "often":
            raise InvalidValue("how often?")
        return value.upper()

    visits = RegisteredCondition(
        operators=("visited", "not_visited"), validate=clean, compile=lambda *args: Q()
    )
    monkeypatch.setitem(REGISTRY, "shop_visits", visits)

    # then
    rules = {"all": [{"field": "shop_visits", "op": "visited", "value": "often"}]}
    assert validate(account, rules) == {
        "all": [{"field": "shop_visits", "op": "visited", "value": "OFTEN"}]
    }
    rules = {"any": [CITY_IS_PARIS, {"field": "shop_visits", "op": "bought", "value": "often"}]}
    assert errors_of(account, rules) == {
        "any[1]": "operator “bought” is not valid for a shop_visits field; use one of: "
        "visited, not_visited"
    }
    rules = {"all": [{"all": [{"field": "shop_visits", "op": "not_visited", "value": 3}]}]}
    assert errors_of(account, rules) == {"all[0].all[0]": "how often?"}


# --- Normalised values ----------------------------------------------------------------------


def test_values_come_back_normalised(account, fields, contact_list):
    rules = {
        "all": [
            {"field": "city", "op": "eq", "value": "  Paris "},
            {"field": "zip_code", "op": "in", "value": [" 75001", 69002]},
            {"field": "fields.points", "op": "gt", "value": "12"},
            {"field": "fields.spent", "op": "between", "value": ["12,50", "1 000"]},
            {"field": "fields.last_order", "op": "on", "value": "05/03/2024"},
            {"field": "birth_date", "op": "between", "value": ["1980-1-2", "31.12.1999"]},
            {"field": "fields.shop", "op": "any_of", "value": [" paris", "LYON"]},
            {"field": "fields.tags", "op": "all_of", "value": ["Bio"]},
            {"field": "salutation", "op": "none_of", "value": ["MRS"]},
            {"field": "fields.vip", "op": "is_true", "value": "ignored"},
            {"field": "fields.note", "op": "is_empty"},
            {"field": "birth_date", "op": "anniversary_within_days", "value": 0},
            {"field": "email_status", "op": "in", "value": ["subscribed", "soft_optin"]},
            {"field": "list", "op": "not_in_list", "value": contact_list.pk},
            {"field": "suppressed", "op": "is_false"},
        ]
    }

    assert validate(account, rules) == {
        "all": [
            {"field": "city", "op": "eq", "value": "Paris"},
            {"field": "zip_code", "op": "in", "value": ["75001", "69002"]},
            {"field": "fields.points", "op": "gt", "value": 12},
            {"field": "fields.spent", "op": "between", "value": [12.5, 1000]},
            {"field": "fields.last_order", "op": "on", "value": "2024-03-05"},
            {"field": "birth_date", "op": "between", "value": ["1980-01-02", "1999-12-31"]},
            {"field": "fields.shop", "op": "any_of", "value": ["Paris", "Lyon"]},
            {"field": "fields.tags", "op": "all_of", "value": ["bio"]},
            {"field": "salutation", "op": "none_of", "value": ["mrs"]},
            {"field": "fields.vip", "op": "is_true", "value": None},
            {"field": "fields.note", "op": "is_empty", "value": None},
            {"field": "birth_date", "op": "anniversary_within_days", "value": 0},
            {"field": "email_status", "op": "in", "value": ["subscribed", "soft_optin"]},
            {"field": "list", "op": "not_in_list", "value": contact_list.pk},
            {"field": "suppressed", "op": "is_false", "value": None},
        ]
    }


def test_empty_groups_are_valid(account):
    assert validate(account, {"all": []}) == {"all": []}
    assert validate(account, {"any": [{"all": []}, {"any": []}]}) == {
        "any": [{"all": []}, {"any": []}]
    }


# --- Values that must be refused ----------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "fields.points", "op": "gt"},
        {"field": "fields.points", "op": "eq", "value": None},
        {"field": "fields.spent", "op": "lte", "value": "  "},
        {"field": "fields.spent", "op": "between", "value": ["", 5]},
    ],
    ids=["missing", "null", "blank", "blank bound"],
)
def test_a_number_comparison_needs_a_value(account, fields, condition):
    errors = errors_of(account, {"all": [condition]})

    assert list(errors) == ["all[0]"]


@pytest.mark.parametrize("value", [["Paris"], {"city": "Paris"}], ids=["list", "object"])
def test_a_text_comparison_needs_a_scalar(account, value):
    errors = errors_of(account, {"all": [{"field": "city", "op": "eq", "value": value}]})

    assert list(errors) == ["all[0]"]
