"""API of the custom contact fields."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.api_fields import StrictCharField, StrictChoiceField, StrictModelSerializer
from accounts.tenancy import AccountObjectsViewSet
from contacts.models import ContactField, FieldType
from contacts.services import fields as field_services


def choices_field(**kwargs) -> serializers.ListField:
    # A choice is a non-blank text (the service drops blanks and repeats).
    return serializers.ListField(
        child=StrictCharField(max_length=200),
        help_text="The choices of a choice or multichoice field (at least one; blanks and "
        "repeats are dropped); the other types have none.",
        **kwargs,
    )


class ContactFieldSerializer(StrictModelSerializer):
    choices = choices_field(required=False)

    class Meta:
        model = ContactField
        fields = ["id", "key", "label", "type", "origin", "choices", "created_at"]
        read_only_fields = ["id", "origin", "created_at"]


CHOICE_TYPES = (FieldType.CHOICE, FieldType.MULTICHOICE)


class ContactFieldCreateSerializer(ContactFieldSerializer):
    """The body of POST /fields/: a choice or multichoice field has choices (at least one), the
    other types none."""

    def validate(self, data):
        if data["type"] in CHOICE_TYPES and not data.get("choices"):
            raise serializers.ValidationError({"choices": ["A choice field needs choices."]})
        if data["type"] not in CHOICE_TYPES and data.get("choices"):
            raise serializers.ValidationError(
                {"choices": ["Only choice and multichoice fields have choices."]}
            )
        return data


def _one_of(types) -> dict:
    # A pattern, not a one-type enum: the schema's enum post-processing would merge the enums
    # of the two cases into one component and lose the condition.
    return {"type": "string", "pattern": f"^({'|'.join(types)})$"}


class _FieldCreateRequestSchema(OpenApiSerializerExtension):
    """The request of POST /fields/: the rule on `choices` depends on `type` (OpenAPI 3.0 has
    no if/then), said with oneOf."""

    target_class = ContactFieldCreateSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction != "request":
            return schema
        others = [value for value in FieldType.values if value not in CHOICE_TYPES]
        schema["oneOf"] = [
            {
                "properties": {"type": _one_of(CHOICE_TYPES), "choices": {"minItems": 1}},
                "required": ["type", "choices"],
            },
            {"properties": {"type": _one_of(others), "choices": {"maxItems": 0}}},
        ]
        return schema


class ContactFieldUpdateSerializer(serializers.Serializer):
    label = StrictCharField(max_length=100, required=False)
    type = StrictChoiceField(choices=FieldType.choices, required=False)
    choices = choices_field(required=False, min_length=1)


@extend_schema_view(
    list=extend_schema(summary="List custom fields", tags=["Fields"]),
    retrieve=extend_schema(summary="Get a custom field", tags=["Fields"]),
    destroy=extend_schema(
        summary="Delete a custom field", description="Its values are deleted.", tags=["Fields"]
    ),
)
class ContactFieldViewSet(AccountObjectsViewSet):
    queryset = ContactField.objects.all()
    serializer_class = ContactFieldSerializer
    pagination_class = None

    @extend_schema(
        summary="Create a custom field",
        request=ContactFieldCreateSerializer,
        responses={201: ContactFieldSerializer},
        description="409 if the key is taken (by another custom field or a built-in field), or "
        "if the account has no room left for a field of this type.",
        tags=["Fields"],
        examples=[
            OpenApiExample(
                "Choice field",
                value={
                    "key": "favourite_shop",
                    "label": "Magasin préféré",
                    "type": "choice",
                    "choices": ["Paris", "Lyon"],
                },
            )
        ],
    )
    def create(self, request):
        serializer = ContactFieldCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        field = field_services.field_create(account=request.account, **serializer.validated_data)
        return Response(ContactFieldSerializer(field).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rename a field or change its type",
        description="A type change is refused (400) if stored values do not fit the new type; "
        "the response lists them.",
        request=ContactFieldUpdateSerializer,
        responses=ContactFieldSerializer,
        tags=["Fields"],
    )
    def partial_update(self, request, pk=None):
        field = self.get_object()
        serializer = ContactFieldUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        field = field_services.field_update(field=field, **serializer.validated_data)
        return Response(ContactFieldSerializer(field).data)

    def perform_destroy(self, instance):
        field_services.field_delete(field=instance)
