"""Pages of the contact lists."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.errors import ServiceError
from accounts.tenancy import get_for_account_or_404
from accounts.views import account_required
from contacts import selectors
from contacts.forms import ContactListForm
from contacts.models import ContactList, ListMembership
from contacts.services import lists as list_services
from contacts.views.shared import PAGE_SIZE, form_add_service_error


@account_required
def list_list_page(request):
    form = ContactListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            list_services.list_create(account=request.account, **form.cleaned_data)
        except ServiceError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, _("List created."))
            return redirect("contacts:lists")
    context = {"form": form, "lists": selectors.lists_with_counts(request.account)}
    return render(request, "contacts/list_list.html", context)


@account_required
def list_detail_page(request, pk):
    contact_list = get_for_account_or_404(ContactList, request.account, pk=pk)
    form = ContactListForm(request.POST or None, instance=contact_list)
    if request.method == "POST" and form.is_valid():
        try:
            list_services.list_update(contact_list=contact_list, **form.cleaned_data)
        except ServiceError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, _("List saved."))
            return redirect("contacts:list_detail", pk=pk)
    members = selectors.list_members(contact_list).order_by("-pk")
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    subscribed = members.filter(status=ListMembership.Status.SUBSCRIBED).count()
    context = {"contact_list": contact_list, "form": form, "page": page, "subscribed": subscribed}
    return render(request, "contacts/list_detail.html", context)


@account_required
@require_POST
def list_delete_page(request, pk):
    contact_list = get_for_account_or_404(ContactList, request.account, pk=pk)
    list_services.list_delete(contact_list=contact_list)
    messages.success(request, _("List deleted; its contacts are kept."))
    return redirect("contacts:lists")
