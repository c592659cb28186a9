"""API of the segments: CRUD, counts, their contacts and the live preview of unsaved rules."""

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api_fields import StrictModelSerializer
from accounts.errors import ConflictError
from accounts.tenancy import AccountObjectsViewSet
from contacts.api import segment_rules
from contacts.api.segment_rules import RULES_REF
from contacts.api.serializers import ContactSerializer
from contacts.models import Segment
from contacts.segments import selectors as segment_selectors
from contacts.segments.language import SegmentRuleError
from contacts.services import segments as segment_services


@extend_schema_field(RULES_REF)
class RulesField(segment_rules.RulesField):
    pass


class SegmentOutOfDate(ConflictError):
    """A saved segment names a field, list or campaign since deleted, or a field whose type
    changed: it cannot be counted until its rules are fixed (HTTP 409)."""

    code = "segment_out_of_date"


def _saved_rules(read):
    """Reads a saved segment; its rules were valid when saved, so what no longer holds is a
    conflict with what changed since, not a bad request."""
    try:
        return read()
    except SegmentRuleError as error:
        raise SegmentOutOfDate(error.fields) from error


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
        segment = self.get_object()
        return Response({"count": _saved_rules(lambda: segment_selectors.segment_count(segment))})

    @extend_schema(
        summary="The segment's contacts now",
        responses=ContactSerializer(many=True),
        tags=["Segments"],
    )
    @action(detail=True, methods=["get"])
    def contacts(self, request, pk=None):
        segment = self.get_object()
        contacts = _saved_rules(lambda: segment_selectors.segment_contacts(segment))
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
