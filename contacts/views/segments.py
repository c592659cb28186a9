"""Pages of the segments and the segment builder's live count."""

import json

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.tenancy import get_for_account_or_404
from accounts.views import account_required
from contacts.models import Segment
from contacts.segments import selectors as segment_selectors
from contacts.segments.builder import builder_catalog, rule_error_messages
from contacts.segments.language import SegmentRuleError
from contacts.services import segments as segment_services


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
    rule_errors = []
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
            rule_errors = [{"path": "rules", "text": errors["rules"]}]
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
                rule_errors = rule_error_messages(request.account, rules, error.errors)
            else:
                messages.success(request, _("Segment saved."))
                return redirect("contacts:segment_edit", pk=segment.pk)
        if not values["name"].strip():
            errors["name"] = _("A name is required.")
    context = {
        "segment": segment,
        "values": values,
        "errors": errors,
        "rule_errors": rule_errors,
        "catalog": builder_catalog(request.account),
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
        message = _("The rules are not valid JSON.")
        return JsonResponse(
            {"errors": {"rules": message}, "messages": [{"path": "rules", "text": message}]},
            status=400,
        )
    except SegmentRuleError as error:
        return JsonResponse(
            {
                "errors": error.errors,
                "messages": rule_error_messages(request.account, rules, error.errors),
            },
            status=400,
        )
    return JsonResponse({"count": count})
