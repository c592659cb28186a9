"""The export page."""

from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.views import account_required
from contacts import selectors
from contacts.api.exports import export_columns, export_response
from contacts.exports import column_labels
from contacts.forms import ExportForm
from contacts.models import ListMembership
from contacts.segments import selectors as segment_selectors
from contacts.segments.language import SegmentRuleError


@account_required
def export_page(request):
    account = request.account
    available = export_columns(account, "")
    labels = column_labels(account)
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
        return export_response(account, contacts, columns, form.cleaned_data["format"], "contacts")
    return render(request, "contacts/export.html", {"form": form})
