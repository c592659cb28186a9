"""Pages of the contact base: contacts, fields, lists, import wizard, export."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.tenancy import get_for_account_or_404
from accounts.views import account_required
from contacts import selectors
from contacts.api import export_columns, export_response
from contacts.forms import (
    BUILTIN_LABELS,
    ContactFieldForm,
    ContactForm,
    ContactListForm,
    ExportForm,
    ImportOptionsForm,
    ImportUploadForm,
    custom_form_name,
)
from contacts.models import (
    BUILTIN_FIELDS,
    ConsentRecord,
    ConsentStatus,
    Contact,
    ContactField,
    ContactImport,
    ContactList,
    ListMembership,
    Segment,
)
from contacts.segments import selectors as segment_selectors
from contacts.segments.language import (
    DAY_COUNT_OPS,
    OPERATORS_BY_TYPE,
    REGISTRY,
    VALUELESS_OPS,
    FieldCatalog,
    SegmentRuleError,
)
from contacts.services import consent as consent_services
from contacts.services import fields as field_services
from contacts.services import imports as import_services
from contacts.services import lists as list_services
from contacts.services import segments as segment_services
from contacts.services.consent import ConsentProof
from contacts.services.contacts import ContactDataError, contact_update, contact_upsert

PAGE_SIZE = 50


def ui_proof(request) -> ConsentProof:
    return ConsentProof(
        source=ConsentRecord.Source.UI,
        ip_address=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        actor=request.user.email,
    )


# --- Contacts -----------------------------------------------------------------------------------


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
        except ContactDataError as error:
            form.add_service_errors(error.errors)
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


# --- Fields -------------------------------------------------------------------------------------


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
        except field_services.FieldError as error:
            for name, reason in error.errors.items():
                form.add_error(name if name in form.fields else None, reason)
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
        except field_services.FieldError as error:
            for name, reason in error.errors.items():
                form.add_error(name if name in form.fields else None, reason)
        except field_services.FieldTypeChangeRefused as error:
            form.add_error(
                "type",
                _("%(n)d stored values do not fit this type; nothing was changed.")
                % {"n": error.total},
            )
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


# --- Lists --------------------------------------------------------------------------------------


@account_required
def list_list_page(request):
    form = ContactListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            list_services.list_create(account=request.account, **form.cleaned_data)
        except list_services.ListError as error:
            form.add_error("name", error.errors["name"])
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
        except list_services.ListError as error:
            form.add_error("name", error.errors["name"])
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


# --- Import wizard ------------------------------------------------------------------------------


@account_required
def import_upload_page(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact_import = import_services.import_create(
                account=request.account, uploaded_file=form.cleaned_data["file"], actor=request.user
            )
        except import_services.ImportError_ as error:
            form.add_error("file", error.errors.get("file") or str(error.errors))
        else:
            return redirect("contacts:import_mapping", pk=contact_import.pk)
    imports = selectors.imports_of(request.account)[:10]
    return render(request, "contacts/import_upload.html", {"form": form, "imports": imports})


def _field_choices(account) -> list[tuple[str, str]]:
    choices = [("", _("— ignore this column —"))]
    choices += [(key, str(label)) for key, label in BUILTIN_LABELS.items()]
    choices += [(field.key, field.display_label) for field in selectors.contact_fields_of(account)]
    return choices


@account_required
def import_mapping_page(request, pk):
    contact_import = get_for_account_or_404(ContactImport, request.account, pk=pk)
    if contact_import.status != ContactImport.Status.UPLOADED:
        return redirect("contacts:import_progress", pk=pk)
    account = request.account
    options = ImportOptionsForm(request.POST or None, account=account)
    mapping = contact_import.mapping
    errors = {}
    if request.method == "POST":
        mapping = [
            request.POST.get(f"column_{index}") or None
            for index in range(len(contact_import.header))
        ]
        if options.is_valid():
            try:
                import_services.import_configure(
                    contact_import=contact_import,
                    mapping=mapping,
                    duplicate_policy=options.cleaned_data["duplicate_policy"],
                    target_list=options.cleaned_data["target_list"],
                    email_status=options.cleaned_data["email_status"],
                    sms_status=options.cleaned_data["sms_status"],
                    consent_wording=options.cleaned_data["consent_wording"],
                )
                import_services.import_start(contact_import=contact_import)
            except import_services.ImportError_ as error:
                errors = error.errors
                for name in ("consent_wording", "email_status", "sms_status", "duplicate_policy"):
                    if name in errors:
                        options.add_error(name, errors.pop(name))
            else:
                return redirect("contacts:import_progress", pk=pk)
    columns = [
        {
            "index": index,
            "name": name,
            "samples": [row[index] for row in contact_import.sample_rows if index < len(row)],
            "selected": mapping[index] if index < len(mapping) else None,
        }
        for index, name in enumerate(contact_import.header)
    ]
    context = {
        "contact_import": contact_import,
        "columns": columns,
        "field_choices": _field_choices(account),
        "options": options,
        "errors": errors,
    }
    return render(request, "contacts/import_mapping.html", context)


@account_required
def import_progress_page(request, pk):
    contact_import = get_for_account_or_404(ContactImport, request.account, pk=pk)
    context = {"contact_import": contact_import}
    if request.htmx:
        return render(request, "contacts/_import_progress.html", context)
    return render(request, "contacts/import_progress.html", context)


@account_required
def import_errors_page(request, pk):
    contact_import = get_for_account_or_404(ContactImport, request.account, pk=pk)
    handle = import_services.import_error_report(contact_import)
    if handle is None:
        raise Http404
    return FileResponse(
        handle, as_attachment=True, filename=f"import-{pk}-errors.csv", content_type="text/csv"
    )


# --- Export -------------------------------------------------------------------------------------


@account_required
def export_page(request):
    account = request.account
    available = export_columns(account, "")
    labels = dict(BUILTIN_LABELS)
    labels.update({"email_status": _("Email consent"), "sms_status": _("SMS consent")})
    labels.update(
        {f"fields.{f.key}": f.display_label for f in selectors.contact_fields_of(account)}
    )
    form = ExportForm(
        request.GET or None,
        account=account,
        columns=[(name, labels.get(name, name)) for name in available],
    )
    if request.GET and form.is_valid():
        contacts = selectors.contacts_of(account)
        contact_list = form.cleaned_data["contact_list"]
        if contact_list is not None:
            contacts = contacts.filter(
                memberships__contact_list=contact_list,
                memberships__status=ListMembership.Status.SUBSCRIBED,
            )
        segment = form.cleaned_data["segment"]
        if segment is not None:
            try:
                contacts = contacts.filter(
                    pk__in=segment_selectors.segment_contacts(segment).values("pk")
                )
            except SegmentRuleError:
                form.add_error("segment", _("This segment refers to a field or list that is gone."))
                return render(request, "contacts/export.html", {"form": form})
        columns = form.cleaned_data["columns"] or available
        return export_response(contacts, columns, form.cleaned_data["format"], "contacts")
    return render(request, "contacts/export.html", {"form": form})


# --- Segments -----------------------------------------------------------------------------------

OPERATOR_LABELS = {
    "eq": gettext_lazy("is"),
    "neq": gettext_lazy("is not"),
    "contains": gettext_lazy("contains"),
    "not_contains": gettext_lazy("does not contain"),
    "starts_with": gettext_lazy("starts with"),
    "ends_with": gettext_lazy("ends with"),
    "in": gettext_lazy("is one of"),
    "not_in": gettext_lazy("is not one of"),
    "is_empty": gettext_lazy("is empty"),
    "is_not_empty": gettext_lazy("is not empty"),
    "gt": gettext_lazy("is greater than"),
    "gte": gettext_lazy("is at least"),
    "lt": gettext_lazy("is less than"),
    "lte": gettext_lazy("is at most"),
    "between": gettext_lazy("is between"),
    "on": gettext_lazy("is on"),
    "before": gettext_lazy("is before"),
    "after": gettext_lazy("is after"),
    "within_last_days": gettext_lazy("is within the last (days)"),
    "more_than_days_ago": gettext_lazy("is more than (days) ago"),
    "within_next_days": gettext_lazy("is within the next (days)"),
    "anniversary_within_days": gettext_lazy("anniversary within (days)"),
    "is_true": gettext_lazy("is yes"),
    "is_false": gettext_lazy("is no"),
    "any_of": gettext_lazy("is any of"),
    "all_of": gettext_lazy("has all of"),
    "none_of": gettext_lazy("is none of"),
    "in_list": gettext_lazy("is in the list"),
    "not_in_list": gettext_lazy("is not in the list"),
}


def _builder_catalog(account) -> dict:
    """What the segment builder offers: fields with their types, operators and choices."""
    catalog = FieldCatalog.for_account(account)
    labels = dict(BUILTIN_LABELS)
    labels.update(
        {
            "created_at": _("Created on"),
            "email_status": _("Email consent"),
            "sms_status": _("SMS consent"),
            "list": _("List"),
            "suppressed": _("Suppressed address"),
        }
    )
    custom = {f"fields.{f.key}": f.display_label for f in selectors.contact_fields_of(account)}
    fields = []
    for name, spec in catalog.specs.items():
        choices = list(spec.choices)
        if spec.type == "consent":
            choices = [[value, str(label)] for value, label in ConsentStatus.choices]
        elif spec.choices:
            choices = [[choice, choice] for choice in spec.choices]
        fields.append(
            {
                "name": name,
                "label": str(custom.get(name) or labels.get(name, name)),
                "type": spec.type,
                "choices": choices,
            }
        )
    operator_labels = {op: str(label) for op, label in OPERATOR_LABELS.items()}
    for name, registered in REGISTRY.items():
        entry = {"name": name, "label": str(registered.label or name), "type": name}
        if registered.builder is not None:
            entry.update(registered.builder(account))
        fields.append(entry)
        operator_labels.update({op: str(label) for op, label in registered.operator_labels.items()})
    return {
        "fields": fields,
        "operators": {kind: list(ops) for kind, ops in OPERATORS_BY_TYPE.items()}
        | {name: list(registered.operators) for name, registered in REGISTRY.items()},
        "operator_labels": operator_labels,
        "valueless": sorted(VALUELESS_OPS),
        "day_counts": sorted(DAY_COUNT_OPS),
        "lists": [[item.pk, item.name] for item in selectors.lists_of(account)],
    }


@account_required
def segment_list_page(request):
    segments = list(segment_selectors.segments_of(request.account))
    for segment in segments:
        try:
            segment.count = segment_selectors.segment_count(segment)
        except SegmentRuleError:
            segment.count = None
    return render(request, "contacts/segment_list.html", {"segments": segments})


def _segment_form_page(request, segment: Segment | None):
    errors = {}
    values = {
        "name": segment.name if segment else "",
        "description": segment.description if segment else "",
        "rules": json.dumps(segment.rules if segment else {"all": []}),
    }
    if request.method == "POST":
        values = {key: request.POST.get(key, "") for key in values}
        try:
            rules = json.loads(values["rules"] or "{}")
        except json.JSONDecodeError:
            errors["rules"] = _("The rules are not valid JSON.")
        else:
            try:
                if segment is None:
                    segment = segment_services.segment_create(
                        account=request.account,
                        name=values["name"],
                        description=values["description"],
                        rules=rules,
                    )
                else:
                    segment_services.segment_update(
                        segment=segment,
                        name=values["name"],
                        description=values["description"],
                        rules=rules,
                    )
            except SegmentRuleError as error:
                errors = error.errors
            else:
                messages.success(request, _("Segment saved."))
                return redirect("contacts:segment_edit", pk=segment.pk)
        if not values["name"].strip():
            errors["name"] = _("A name is required.")
    context = {
        "segment": segment,
        "values": values,
        "errors": errors,
        "catalog": _builder_catalog(request.account),
    }
    return render(request, "contacts/segment_form.html", context)


@account_required
def segment_create_page(request):
    return _segment_form_page(request, None)


@account_required
def segment_edit_page(request, pk):
    return _segment_form_page(request, get_for_account_or_404(Segment, request.account, pk=pk))


@account_required
@require_POST
def segment_delete_page(request, pk):
    segment = get_for_account_or_404(Segment, request.account, pk=pk)
    segment_services.segment_delete(segment=segment)
    messages.success(request, _("Segment deleted; its contacts are kept."))
    return redirect("contacts:segments")


@account_required
@require_POST
def segment_preview_page(request):
    """The builder's live count, for rules being edited (JSON in, JSON out)."""
    try:
        rules = json.loads(request.body or b"{}").get("rules")
        count = segment_selectors.rules_count(request.account, rules)
    except (json.JSONDecodeError, AttributeError):
        return JsonResponse({"errors": {"rules": _("The rules are not valid JSON.")}}, status=400)
    except SegmentRuleError as error:
        return JsonResponse({"errors": error.errors}, status=400)
    return JsonResponse({"count": count})
