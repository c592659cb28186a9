"""API of the segments: CRUD, counts, their contacts and the live preview of unsaved rules."""

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api_fields import StrictModelSerializer
from accounts.tenancy import AccountObjectsViewSet
from contacts.api.serializers import ContactSerializer
from contacts.models import Segment
from contacts.segments import selectors as segment_selectors
from contacts.services import segments as segment_services

RULES_SCHEMA = {
    "type": "object",
    "description": (
        'A group: `{"all": [...]}` (every child holds) or `{"any": [...]}` (at least one). '
        'Children are groups (nested up to 5 deep) or conditions `{"field", "op", "value"}`. '
        "Fields: built-in columns (email, mobile, salutation, first_name, last_name, birth_date, "
        "zip_code, city, country, company, created_at), `fields.<key>` for custom fields, "
        "`email_status`, `sms_status` (op in / not_in, value: list of statuses), `list` (op "
        "in_list / not_in_list, value: list id), `suppressed` (op is_true / is_false), "
        "`email_activity` (op received, not_received, opened, not_opened, clicked, not_clicked, "
        'received_not_opened; value `{"campaign": id or null, "days": 1-3660 or null}`: null '
        "is any campaign, any time; opens and clicks by machines never count). "
        "Operators by type — text, email, url, phone: eq, neq, contains, not_contains, "
        "starts_with, ends_with, in, is_empty, is_not_empty (case-insensitive); number, decimal: "
        "eq, neq, gt, gte, lt, lte, between ([low, high]), is_empty, is_not_empty; date, "
        "datetime: on, before, after, between, within_last_days, more_than_days_ago, "
        "within_next_days, anniversary_within_days (value: days, in the account's time zone), "
        "is_empty, is_not_empty; boolean: is_true, is_false, is_empty, is_not_empty; choice, "
        "multichoice: any_of, all_of, none_of (value: list of choices), is_empty, is_not_empty."
    ),
    "properties": {
        "all": {"type": "array", "items": {"type": "object"}},
        "any": {"type": "array", "items": {"type": "object"}},
    },
    # Exactly one of `all` and `any`.
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
    # Built-in fields only, so that the example holds on any account, a fresh one included.
    "example": {
        "all": [
            {"field": "birth_date", "op": "anniversary_within_days", "value": 30},
            {"field": "email_status", "op": "in", "value": ["subscribed"]},
            {"any": [{"field": "city", "op": "in", "value": ["Paris", "Lyon"]}]},
        ]
    },
}


@extend_schema_field(RULES_SCHEMA)
class RulesField(serializers.JSONField):
    pass


class SegmentSerializer(StrictModelSerializer):
    rules = RulesField()

    class Meta:
        model = Segment
        fields = ["id", "name", "description", "rules", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class RulesSerializer(serializers.Serializer):
    rules = RulesField()


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


@extend_schema_view(
    list=extend_schema(summary="List segments", tags=["Segments"]),
    retrieve=extend_schema(summary="Get a segment", tags=["Segments"]),
    destroy=extend_schema(summary="Delete a segment (not its contacts)", tags=["Segments"]),
)
class SegmentViewSet(AccountObjectsViewSet):
    queryset = Segment.objects.all()
    serializer_class = SegmentSerializer

    @extend_schema(summary="Create a segment", tags=["Segments"])
    def create(self, request):
        serializer = SegmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        segment = segment_services.segment_create(
            account=request.account, **serializer.validated_data
        )
        return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a segment", tags=["Segments"])
    def partial_update(self, request, pk=None):
        segment = self.get_object()
        serializer = SegmentSerializer(segment, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        segment = segment_services.segment_update(segment=segment, **serializer.validated_data)
        return Response(SegmentSerializer(segment).data)

    @extend_schema(
        summary="Count the segment's contacts now",
        responses=CountSerializer,
        tags=["Segments"],
    )
    @action(detail=True, methods=["get"])
    def count(self, request, pk=None):
        return Response({"count": segment_selectors.segment_count(self.get_object())})

    @extend_schema(
        summary="The segment's contacts now",
        responses=ContactSerializer(many=True),
        tags=["Segments"],
    )
    @action(detail=True, methods=["get"])
    def contacts(self, request, pk=None):
        contacts = segment_selectors.segment_contacts(self.get_object())
        page = self.paginate_queryset(contacts)
        return self.get_paginated_response(ContactSerializer(page, many=True).data)

    @extend_schema(
        summary="Count the contacts of unsaved rules (live preview)",
        request=RulesSerializer,
        responses=CountSerializer,
        tags=["Segments"],
    )
    @action(detail=False, methods=["post"])
    def preview(self, request):
        serializer = RulesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = segment_selectors.rules_count(request.account, serializer.validated_data["rules"])
        return Response({"count": count})
