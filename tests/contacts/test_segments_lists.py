"""Sibling list conditions of a group are compiled as one membership subquery: the results are
those of the conditions taken one by one."""

import itertools

import pytest

from contacts.segments.compiler import count_matching, segment_queryset
from contacts.segments.language import FieldCatalog, validate_rules
from tests.factories import ContactFactory, ContactListFactory, ListMembershipFactory

pytestmark = pytest.mark.django_db


def test_merged_list_conditions_mean_what_they_say(account):
    lists = [ContactListFactory(account=account, name=name) for name in "ABC"]
    memberships = {}
    # Every combination of memberships, one an unsubscribed member (not "in" the list).
    for number, combination in enumerate(
        itertools.product([None, "subscribed", "unsubscribed"], repeat=3)
    ):
        contact = ContactFactory(account=account, email=f"c{number}@x.fr")
        memberships[contact.pk] = set()
        for contact_list, status in zip(lists, combination, strict=True):
            if status:
                ListMembershipFactory(contact_list=contact_list, contact=contact, status=status)
                if status == "subscribed":
                    memberships[contact.pk].add(contact_list.pk)
    a, b, c = (contact_list.pk for contact_list in lists)
    catalog = FieldCatalog.for_account(account)
    cases = [
        ({"any": [{"field": "list", "op": "in_list", "value": a}, {"field": "list", "op": "in_list", "value": b}]},
         lambda member: a in member or b in member),
        ({"all": [{"field": "list", "op": "not_in_list", "value": a}, {"field": "list", "op": "not_in_list", "value": c}]},
         lambda member: a not in member and c not in member),
        ({"any": [{"field": "list", "op": "in_list", "value": a}, {"field": "list", "op": "not_in_list", "value": b},
                  {"field": "list", "op": "in_list", "value": c}]},
         lambda member: a in member or b not in member or c in member),
        ({"all": [{"field": "list", "op": "in_list", "value": a}, {"field": "list", "op": "in_list", "value": b},
                  {"field": "list", "op": "not_in_list", "value": c}]},
         lambda member: a in member and b in member and c not in member),
    ]  # fmt: skip
    for rules, expected in cases:
        cleaned = validate_rules(rules, catalog, account)
        wanted = {pk for pk, member in memberships.items() if expected(member)}
        assert set(segment_queryset(account, cleaned).values_list("pk", flat=True)) == wanted, rules
        assert count_matching(account, cleaned) == len(wanted)
