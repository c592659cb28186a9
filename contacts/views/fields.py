"""Pages of the custom fields."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.errors import ServiceError
from accounts.tenancy import get_for_account_or_404
from accounts.views import account_required
from contacts import selectors
from contacts.forms import BUILTIN_LABELS, ContactFieldForm
from contacts.models import ContactField
from contacts.services import fields as field_services
from contacts.services.fields import FieldTypeChangeRefused
from contacts.views.shared import form_add_service_error


@account_required
def field_list_page(request):
    form = ContactFieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            field_services.field_create(
                account=request.account,
                key=form.cleaned_data["key"],
                label=form.cleaned_data["label"],
                type=form.cleaned_data["type"],
                choices=form.choice_list(),
            )
        except ServiceError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, _("Field created."))
            return redirect("contacts:fields")
    context = {
        "form": form,
        "fields": selectors.contact_fields_of(request.account),
        "builtins": BUILTIN_LABELS,
    }
    return render(request, "contacts/field_list.html", context)


@account_required
def field_edit_page(request, pk):
    field = get_for_account_or_404(ContactField, request.account, pk=pk)
    initial = {
        "label": field.label,
        "key": field.key,
        "type": field.type,
        "choices": "\n".join(field.choices),
    }
    form = ContactFieldForm(request.POST or None, initial=initial)
    form.fields["key"].disabled = True
    misfits = None
    if request.method == "POST" and form.is_valid():
        try:
            field_services.field_update(
                field=field,
                label=form.cleaned_data["label"],
                type=form.cleaned_data["type"],
                choices=form.choice_list(),
            )
        except ServiceError as error:
            form_add_service_error(form, error)
            if isinstance(error, FieldTypeChangeRefused):
                misfits = error.misfits
        else:
            messages.success(request, _("Field saved."))
            return redirect("contacts:fields")
    return render(
        request, "contacts/field_edit.html", {"form": form, "field": field, "misfits": misfits}
    )


@account_required
@require_POST
def field_delete_page(request, pk):
    field = get_for_account_or_404(ContactField, request.account, pk=pk)
    field_services.field_delete(field=field)
    messages.success(request, _("Field deleted with its values."))
    return redirect("contacts:fields")
