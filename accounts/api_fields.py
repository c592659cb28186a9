"""Serializer fields that take only the JSON type the OpenAPI schema announces.

DRF is lenient by default: a CharField turns `0` into `"0"`, an IntegerField takes `"12"` and
`12.0`, a BooleanField takes `"yes"` and `1`, a primary-key field takes `"3"`. The schema says
`string`, `integer`, `boolean`, so a client that sends anything else has a bug it should hear
about (a 400 naming the field) rather than data stored under another type. Every input
serializer of the API uses these (`StrictModelSerializer` maps model fields to them).
"""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers


def _strict(field_class, accepted: tuple[type, ...], kind: str):
    class Strict(field_class):
        default_error_messages = {"wrong_type": f"Give {kind}."}

        def to_internal_value(self, data):
            # bool is an int in Python; JSON true is never a number or a text.
            if isinstance(data, bool) and bool not in accepted or not isinstance(data, accepted):
                self.fail("wrong_type")
            return super().to_internal_value(data)

    Strict.__name__ = Strict.__qualname__ = f"Strict{field_class.__name__}"
    Strict.__doc__ = f"{field_class.__name__} that takes {kind} only."
    return Strict


class StrictCharField(_strict(serializers.CharField, (str,), "a text (a JSON string)")):
    """Text only. A text that may not be blank must hold a visible character: DRF strips
    whitespace before its blank check, so "   " is refused; the pattern says so in the schema
    (with the NUL character that DRF refuses too)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if not self.allow_blank:
            self.validators.append(
                RegexValidator(NOT_BLANK, message=_("This field may not be blank."))
            )


# At least one character that is neither white space nor NUL (both languages' \s agree on what
# str.strip() removes), and no NUL anywhere.
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
StrictEmailField = _strict(serializers.EmailField, (str,), "an email address (a JSON string)")
StrictURLField = _strict(serializers.URLField, (str,), "a URL (a JSON string)")
StrictSlugField = _strict(serializers.SlugField, (str,), "a slug (a JSON string)")
StrictChoiceField = _strict(serializers.ChoiceField, (str,), "one of the choices (a JSON string)")
StrictIntegerField = _strict(serializers.IntegerField, (int,), "a whole number")
StrictBooleanField = _strict(serializers.BooleanField, (bool,), "true or false")


class StrictPrimaryKeyRelatedField(
    _strict(serializers.PrimaryKeyRelatedField, (int,), "an id (a whole number)")
):
    """An id (a JSON integer) of one of the account's objects. An id that names none is a 404,
    as the same id in a URL would be (and as Stripe answers `resource_missing`): the request is
    well formed, the object is not there — for this account, which also hides other accounts'."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            if error.get_codes() != ["does_not_exist"]:
                raise
            name = self.field_name or getattr(self.parent, "field_name", "")
            raise exceptions.NotFound(
                f"{name}: no object with id {data} in this account."
            ) from None


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose generated fields are the strict ones above."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        **{
            model_field: strict
            for model_field, lenient in serializers.ModelSerializer.serializer_field_mapping.items()
            for strict in [
                {
                    serializers.CharField: StrictCharField,
                    serializers.EmailField: StrictEmailField,
                    serializers.URLField: StrictURLField,
                    serializers.SlugField: StrictSlugField,
                    serializers.IntegerField: StrictIntegerField,
                    serializers.BooleanField: StrictBooleanField,
                }.get(lenient)
            ]
            if strict is not None
        },
    }
    serializer_related_field = StrictPrimaryKeyRelatedField
    serializer_choice_field = StrictChoiceField
