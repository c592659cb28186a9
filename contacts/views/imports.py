"""The import wizard: upload, mapping and options, progress, error report."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.errors import ServiceError
from accounts.tenancy import get_for_account_or_404
from accounts.views import account_required
from contacts import selectors
from contacts.api.imports import rejects_response
from contacts.exports import CSV, EXCEL_FR
from contacts.forms import BUILTIN_LABELS, ImportOptionsForm, ImportUploadForm
from contacts.imports import services as import_services
from contacts.models import ContactImport
from contacts.views.shared import form_add_service_error


@account_required
def import_upload_page(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact_import = import_services.import_create(
                account=request.account, uploaded_file=form.cleaned_data["file"], actor=request.user
            )
        except ServiceError as error:
            form_add_service_error(form, error)
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
            except ServiceError as error:
                # The options' errors go on their fields; the mapping's are shown above the table.
                errors = form_add_service_error(options, error, others_on_form=False)
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


# The first rejected rows are listed on the report with their errors; the file holds them all.
REJECTED_SHOWN = 20


@account_required
def import_progress_page(request, pk):
    contact_import = get_for_account_or_404(ContactImport, request.account, pk=pk)
    context = {
        "contact_import": contact_import,
        "rejected_rows": import_services.import_rejected_rows(contact_import, limit=REJECTED_SHOWN),
        "rejected_shown": REJECTED_SHOWN,
    }
    if request.htmx:
        return render(request, "contacts/_import_progress.html", context)
    return render(request, "contacts/import_progress.html", context)


@account_required
def import_errors_page(request, pk):
    """The rejected rows: for French Excel by default, the technical CSV with ?format=csv."""
    contact_import = get_for_account_or_404(ContactImport, request.account, pk=pk)
    file_format = request.GET.get("format", EXCEL_FR)
    if file_format not in {CSV, EXCEL_FR}:
        raise Http404
    response = rejects_response(contact_import, file_format)
    if response is None:
        raise Http404
    return response
