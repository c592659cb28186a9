"""API of the contact lists and their members."""

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api_conventions import INT64
from accounts.api_fields import StrictIntegerField, StrictModelSerializer
from accounts.tenancy import AccountObjectsViewSet
from contacts import selectors
from contacts.api.serializers import ContactSerializer
from contacts.models import ContactList, ListMembership
from contacts.services import lists as list_services


class ContactListSerializer(StrictModelSerializer):
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ContactList
        fields = ["id", "name", "description", "member_count", "created_at"]
        read_only_fields = ["id", "member_count", "created_at"]


class MembershipSerializer(serializers.ModelSerializer):
    contact = ContactSerializer(read_only=True)

    class Meta:
        model = ListMembership
        fields = ["contact", "status", "created_at", "updated_at"]
        read_only_fields = fields


class MemberIdsSerializer(serializers.Serializer):
    contact_ids = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=INT64),
        min_length=1,
        max_length=10_000,
        allow_empty=False,
        help_text="Ids of the account's contacts; ids of other accounts' or deleted contacts "
        "are skipped.",
    )


@extend_schema_view(
    list=extend_schema(summary="List lists with member counts", tags=["Lists"]),
    retrieve=extend_schema(summary="Get a list", tags=["Lists"]),
    destroy=extend_schema(summary="Delete a list (not its contacts)", tags=["Lists"]),
)
class ContactListViewSet(AccountObjectsViewSet):
    queryset = ContactList.objects.all()
    serializer_class = ContactListSerializer

    def get_queryset(self):
        return selectors.lists_with_counts(self.request.account)

    @extend_schema(
        summary="Create a list", description="409 if a list has this name.", tags=["Lists"]
    )
    def create(self, request):
        serializer = ContactListSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact_list = list_services.list_create(
            account=request.account, **serializer.validated_data
        )
        contact_list.member_count = 0
        return Response(ContactListSerializer(contact_list).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rename or describe a list",
        description="409 if another list has this name.",
        tags=["Lists"],
    )
    def partial_update(self, request, pk=None):
        contact_list = self.get_object()
        serializer = ContactListSerializer(contact_list, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        list_services.list_update(contact_list=contact_list, **serializer.validated_data)
        return Response(ContactListSerializer(self.get_object()).data)

    @extend_schema(
        methods=["get"],
        summary="Members of a list",
        responses=MembershipSerializer(many=True),
        tags=["Lists"],
    )
    @extend_schema(
        methods=["post"],
        summary="Add contacts to a list",
        request=MemberIdsSerializer,
        responses=inline_serializer("MembersAdded", {"added": serializers.IntegerField()}),
        tags=["Lists"],
    )
    @action(detail=True, methods=["get", "post"])
    def members(self, request, pk=None):
        contact_list = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.list_members(contact_list))
            return self.get_paginated_response(MembershipSerializer(page, many=True).data)
        serializer = MemberIdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        added = list_services.list_add_contacts(
            contact_list=contact_list, contact_ids=serializer.validated_data["contact_ids"]
        )
        return Response({"added": added})

    @extend_schema(
        summary="Remove contacts from a list",
        request=MemberIdsSerializer,
        responses=inline_serializer("MembersRemoved", {"removed": serializers.IntegerField()}),
        tags=["Lists"],
    )
    @action(detail=True, methods=["post"], url_path="members/remove")
    def remove_members(self, request, pk=None):
        contact_list = self.get_object()
        serializer = MemberIdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        removed = list_services.list_remove_contacts(
            contact_list=contact_list, contact_ids=serializer.validated_data["contact_ids"]
        )
        return Response({"removed": removed})
