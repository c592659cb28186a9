"""field__any_of and among(): the same rows as field__in, on either database."""

import pytest

from accounts.lookups import among
from contacts.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contacts(account):
    return [
        ContactFactory(account=account, email=f"{name}@example.fr", key=f"{name}@example.fr")
        for name in ("ana", "bob", "cleo", "dan", "eve")
    ]


def _keys(queryset) -> list[str]:
    return sorted(queryset.values_list("key", flat=True))


def test_any_of_matches_what_in_matches_for_texts_and_numbers(account, contacts):
    # given
    wanted = ["bob@example.fr", "dan@example.fr", "nobody@example.fr"]
    ids = [contacts[0].pk, contacts[4].pk, 10**12]
    # when / then
    assert _keys(Contact.objects.filter(key__any_of=wanted)) == _keys(
        Contact.objects.filter(key__in=wanted)
    )
    assert _keys(Contact.objects.filter(key__any_of=wanted)) == ["bob@example.fr", "dan@example.fr"]
    assert _keys(Contact.objects.filter(pk__any_of=ids)) == ["ana@example.fr", "eve@example.fr"]
    assert _keys(Contact.objects.filter(pk__any_of=set(ids))) == [
        "ana@example.fr",
        "eve@example.fr",
    ]


def test_any_of_an_empty_list_matches_nothing(account, contacts):
    assert list(Contact.objects.filter(key__any_of=[])) == []


def test_among_keeps_only_the_values_given_between_the_bounds(account, contacts):
    # given: the bounds (ana … eve) hold every contact; only the listed ones match
    wanted = ["eve@example.fr", "ana@example.fr", "cleo@example.fr", "zed@example.fr"]
    # when
    found = _keys(Contact.objects.filter(among("key", wanted), account=account))
    # then
    assert found == ["ana@example.fr", "cleo@example.fr", "eve@example.fr"]
    assert list(Contact.objects.filter(among("key", []))) == []
    assert _keys(Contact.objects.filter(among("key", {"bob@example.fr"}))) == ["bob@example.fr"]
