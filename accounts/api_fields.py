"""Serializer fields that take only the JSON type the OpenAPI schema announces.

DRF is lenient by default: a CharField turns `0` into `"0"`, an IntegerField takes `"12"` and
`12.0`, a BooleanField takes `"yes"` and `1`, a primary-key field takes `"3"`. The schema says
`string`, `integer`, `boolean`, so a client that sends anything else has a bug it should hear
about (a 400 naming the field) rather than data stored under another type. Every input
serializer of the API uses these (`StrictModelSerializer` maps model fields to them).
"""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.relations import MANY_RELATION_KWARGS

from accounts.api_conventions import INT64


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
    (with the NUL character that DRF refuses too). A read-only text is what the model holds, which
    may be empty (a campaign's pause reason before any pause): no input rule, no pattern."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if not self.allow_blank and not self.read_only:
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


class StrictManyRelatedField(serializers.ManyRelatedField):
    """A JSON array of ids, nothing else: DRF's takes any iterable, so `{}` passed as none."""

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": INT64})
class AccountObjects(StrictPrimaryKeyRelatedField):
    """Ids of the caller's own lists, segments or senders: another account's id is invalid.
    Ids are positive 64-bit integers (the database's range), as the schema says."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool) and not 1 <= data <= INT64:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return StrictManyRelatedField(**list_kwargs)

    def get_queryset(self):
        return self.model.objects.filter(account=self.context["request"].account)


def nul_path(value, path: str = "") -> str | None:
    """The path (`config.value`, `rules.all[1].value`) of the first text of a JSON document,
    keys included, that holds a NUL; "" for the document itself; None if there is none."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return here.replace("\x00", "\\u0000")
            if (found := nul_path(item, here)) is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (found := nul_path(item, f"{path}[{index}]")) is not None:
                return found
    return None


class JSONDocumentField(serializers.DictField):
    """A JSON object the API stores as it is (a step's settings, a trigger's rules): any
    content, but no NUL in any of its texts or keys, which PostgreSQL's JSON cannot hold (a
    500 otherwise). Every stored document goes through this one check; texts in typed fields
    are refused by DRF's own CharField already, and unknown properties are ignored unread."""

    default_error_messages = {
        "nul": _("Texts may not contain the NUL character (U+0000): %(path)s.")
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        path = nul_path(value)
        if path is not None:
            raise exceptions.ValidationError(
                self.error_messages["nul"] % {"path": path or _("the document")}, code="nul"
            )
        return value
