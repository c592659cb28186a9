"""Tenant scoping: every read of tenant data starts from the account.

`request.account` is set by `CurrentAccountMiddleware` for web pages and by the API-key
authentication for API calls; it never comes from the request body.
"""

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from rest_framework import mixins, viewsets

from accounts.models import Account


def scoped(model_or_queryset: type[Model] | QuerySet, account: Account) -> QuerySet:
    queryset = (
        model_or_queryset
        if isinstance(model_or_queryset, QuerySet)
        else model_or_queryset._default_manager.all()
    )
    return queryset.filter(account=account)


def get_for_account_or_404(model_or_queryset, account: Account, **lookup):
    """Another account's object is indistinguishable from a missing one: 404, never 403."""
    return get_object_or_404(scoped(model_or_queryset, account), **lookup)


class AccountScopedViewMixin:
    """For DRF generic views: the queryset is always filtered on the caller's account."""

    def get_queryset(self):
        return scoped(super().get_queryset(), self.request.account)


class AccountObjectsViewSet(
    AccountScopedViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """List, read and delete the account's own objects. Creation and changes are explicit
    `create` / `partial_update` methods on each viewset, so they go through a service."""
