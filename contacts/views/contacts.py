"""Pages of the contacts: list and search, create and edit, consent, GDPR, lists of a contact."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.errors import ServiceError
from accounts.tenancy import get_for_account_or_404
from accounts.views import account_required
from contacts import selectors
from contacts.forms import ContactForm, custom_form_name
from contacts.models import BUILTIN_FIELDS, ConsentStatus, Contact, ContactList, Segment
from contacts.segments import selectors as segment_selectors
from contacts.segments.language import SegmentRuleError
from contacts.services import consent as consent_services
from contacts.services import lists as list_services
from contacts.services.contacts import ContactDataError, contact_update, contact_upsert
from contacts.views.shared import PAGE_SIZE, form_add_service_error, ui_proof


@account_required
def contact_list_page(request):
    account = request.account
    list_param = request.GET.get("list", "")
    contacts = selectors.contacts_search(
        account,
        query=request.GET.get("q", ""),
        email_status=request.GET.get("email_status", ""),
        list_id=int(list_param) if list_param.isdigit() else None,
    ).order_by("-pk")
    segment_param = request.GET.get("segment", "")
    if segment_param.isdigit():
        segment = get_for_account_or_404(Segment, account, pk=int(segment_param))
        try:
            contacts = contacts.filter(
                pk__in=segment_selectors.segment_contacts(segment).values("pk")
            )
        except SegmentRuleError:
            messages.error(request, _("This segment refers to a field or list that is gone."))
    page = Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "lists": selectors.lists_of(account),
        "segments": segment_selectors.segments_of(account),
        "statuses": ConsentStatus.choices,
        "filters": request.GET,
    }
    if request.htmx:
        return render(request, "contacts/_contact_table.html", context)
    return render(request, "contacts/contact_list.html", context)


def _contact_form_page(request, contact: Contact | None):
    account = request.account
    custom_fields = list(selectors.contact_fields_of(account))
    initial = {}
    if contact is not None:
        initial = {name: getattr(contact, name) or "" for name in BUILTIN_FIELDS}
        initial["mobile"] = str(contact.mobile or "")
        initial["birth_date"] = (
            contact.birth_date.strftime("%d/%m/%Y") if contact.birth_date else ""
        )
        initial["email_status"] = contact.email_status
        initial["sms_status"] = contact.sms_status
        for field in custom_fields:
            value = contact.fields.get(field.key, "")
            if isinstance(value, bool):
                value = "true" if value else "false"
            initial[custom_form_name(field.key)] = value
    form = ContactForm(request.POST or None, initial=initial, custom_fields=custom_fields)
    if request.method == "POST" and form.is_valid():
        data = form.contact_data()
        try:
            if contact is None:
                saved, created = contact_upsert(
                    account=account, data=data, proof=ui_proof(request), policy="skip"
                )
                if not created:
                    raise ContactDataError(
                        {account.contact_key: _("A contact with this value exists.")}
                    )
            else:
                saved = contact_update(contact=contact, data=data, proof=ui_proof(request))
        except ServiceError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("contacts:detail", pk=saved.pk)
    context = {"form": form, "contact": contact}
    if contact is not None:
        context["consent_history"] = selectors.consent_history(contact)[:50]
        context["memberships"] = contact.memberships.select_related("contact_list")
        context["other_lists"] = selectors.lists_of(account).exclude(
            pk__in=[m.contact_list_id for m in context["memberships"]]
        )
    return render(request, "contacts/contact_form.html", context)


@account_required
def contact_create_page(request):
    return _contact_form_page(request, None)


@account_required
def contact_detail_page(request, pk):
    return _contact_form_page(request, get_for_account_or_404(Contact, request.account, pk=pk))


@account_required
@require_POST
def contact_erase_page(request, pk):
    contact = get_for_account_or_404(Contact, request.account, pk=pk)
    consent_services.contact_erase(contact=contact, actor=request.user.email)
    messages.success(request, _("The contact was erased. Its address stays suppressed."))
    return redirect("contacts:list")


@account_required
def contact_gdpr_export_page(request, pk):
    contact = get_for_account_or_404(Contact, request.account, pk=pk)
    response = HttpResponse(
        json.dumps(selectors.contact_personal_data(contact), ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
    return response


@account_required
@require_POST
def contact_double_optin_page(request, pk):
    contact = get_for_account_or_404(Contact, request.account, pk=pk)
    if contact.email:
        consent_services.double_optin_request(contact=contact, proof=ui_proof(request))
        messages.success(request, _("Confirmation email sent."))
    return redirect("contacts:detail", pk=pk)


@account_required
@require_POST
def contact_membership_page(request, pk):
    contact = get_for_account_or_404(Contact, request.account, pk=pk)
    contact_list = get_for_account_or_404(
        ContactList, request.account, pk=request.POST.get("list") or 0
    )
    if request.POST.get("action") == "remove":
        list_services.list_remove_contacts(contact_list=contact_list, contact_ids=[contact.pk])
    else:
        list_services.list_add_contacts(contact_list=contact_list, contact_ids=[contact.pk])
    return redirect("contacts:detail", pk=pk)


def double_optin_confirm_page(request, token):
    """Public page the confirmation email links to (no login)."""
    try:
        contact = consent_services.double_optin_confirm(
            token=token,
            ip_address=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    except consent_services.InvalidConfirmation:
        return render(request, "contacts/double_optin.html", {"ok": False}, status=400)
    return render(request, "contacts/double_optin.html", {"ok": True, "contact": contact})
