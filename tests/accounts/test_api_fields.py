import pytest
from rest_framework import serializers

from accounts.api_fields import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictModelSerializer,
)
from accounts.models import Account


class Example(serializers.Serializer):
    name = StrictCharField(required=False)
    count = StrictIntegerField(required=False)
    active = StrictBooleanField(required=False)
    kind = StrictChoiceField(choices=["a", "b"], required=False)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": 0}, "name"),
        ({"name": True}, "name"),
        ({"name": ["x"]}, "name"),
        ({"count": "12"}, "count"),
        ({"count": 12.0}, "count"),
        ({"count": True}, "count"),
        ({"active": "yes"}, "active"),
        ({"active": 1}, "active"),
        ({"kind": 0}, "kind"),
    ],
)
def test_another_json_type_is_refused_with_the_field_named(data, field):
    serializer = Example(data=data)

    assert not serializer.is_valid()
    assert list(serializer.errors) == [field]


def test_the_announced_types_are_taken():
    serializer = Example(data={"name": "Shop", "count": 12, "active": False, "kind": "b"})

    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data == {"name": "Shop", "count": 12, "active": False, "kind": "b"}


class AccountExample(StrictModelSerializer):
    class Meta:
        model = Account
        fields = ["name", "timezone"]


def test_model_serializer_fields_are_strict(db):
    serializer = AccountExample(data={"name": 0, "timezone": "Europe/Paris"})

    assert not serializer.is_valid()
    assert list(serializer.errors) == ["name"]
    assert isinstance(AccountExample().fields["name"], StrictCharField)


def test_a_read_only_text_may_be_empty_in_the_published_schema(db):
    # A read-only text shows what the model holds, "" included (an SMS campaign's pause reason
    # before any pause): the non-blank rule and its schema pattern are for input only.
    from drf_spectacular.generators import SchemaGenerator

    campaign = SchemaGenerator().get_schema(public=True)["components"]["schemas"]["SmsCampaign"]

    assert "pattern" in campaign["properties"]["name"]
    assert "pattern" not in campaign["properties"]["pause_reason"]
    assert StrictCharField(read_only=True).to_representation("") == ""
