"""The block editor's pages and the JSON calls its script makes (session and CSRF, like every
page; the public API is not involved).

Errors answer the house shape `{code, message, fields}`: a bad design is a 400 whose `fields`
are paths into the design, so the editor can select the block at fault.
"""

import json
import mimetypes
import re

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.errors import ConflictError, ServiceError
from accounts.tenancy import get_for_account_or_404
from accounts.views import account_required
from campaigns import merge_tags, rendering, services
from campaigns.editor import selectors
from campaigns.editor.design import (
    BLOCK_LABELS,
    BLOCK_SCHEMAS,
    COLUMN_SCHEMA,
    REQUIRED,
    SECTION_SCHEMA,
    SOCIAL_NETWORKS,
    WEB_SAFE_FONTS,
    design_normalise,
)
from campaigns.editor.services import (
    MAX_IMAGE_BYTES,
    campaign_design_save,
    compile_design,
    image_upload,
    saved_section_create,
    saved_section_delete,
    template_design_save,
)
from campaigns.editor.strings import editor_strings
from campaigns.gallery import gallery
from campaigns.models import EmailCampaign, EmailTemplate, Message, SavedSection
from contacts.models import Contact

STORED_IMAGE = re.compile(r"editor/\d+/[0-9a-f]{32}\.(?:jpg|png)")
MAX_BODY = 2 * 1024 * 1024


def _error(error: ServiceError) -> JsonResponse:
    status = 409 if isinstance(error, ConflictError) else 400
    return JsonResponse(
        {"code": error.code, "message": error.message, "fields": error.fields}, status=status
    )


def _json_body(request) -> dict:
    if len(request.body) > MAX_BODY:
        raise ServiceError(_("The design is too large."), code="too_large")
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as error:
        raise ServiceError(_("The request is not valid JSON."), code="parse_error") from error
    if not isinstance(data, dict):
        raise ServiceError(_("The request is not valid JSON."), code="parse_error")
    return data


def _defaults(schema: dict) -> dict:
    return {
        key: default
        for key, (checker, default) in schema.items()
        if checker is not None and default is not REQUIRED
    }


def _editor_context(request, *, design, title, save_url, kind, **extra) -> dict:
    config = {
        "design": design,
        "kind": kind,
        "saveUrl": save_url,
        "previewUrl": reverse("campaigns:editor_preview"),
        "uploadUrl": reverse("campaigns:editor_image_upload"),
        "savedSectionsUrl": reverse("campaigns:editor_saved_sections"),
        "savedSections": selectors.saved_sections(request.account),
        "maxImageBytes": MAX_IMAGE_BYTES,
        "mergeTags": selectors.merge_tag_menu(request.account),
        "fonts": [{"value": value, "label": label} for value, label in WEB_SAFE_FONTS.items()],
        "blockLabels": {kind: str(label) for kind, label in BLOCK_LABELS.items()},
        "blockDefaults": {kind: _defaults(schema) for kind, schema in BLOCK_SCHEMAS.items()},
        "sectionDefaults": _defaults(SECTION_SCHEMA),
        "columnDefaults": _defaults(COLUMN_SCHEMA),
        "socialNetworks": SOCIAL_NETWORKS,
        **{key: value for key, value in extra.items() if key.endswith("Url")},
    }
    return {
        "title": title,
        "config": config,
        "strings": editor_strings(),
        "contacts": Contact.objects.filter(account=request.account).exclude(email="")[:50],
        **extra,
    }


def _start_choices(request) -> dict:
    return {
        "gallery_templates": gallery(),
        "account_templates": EmailTemplate.objects.filter(account=request.account),
    }


@account_required
def campaign_editor_page(request, pk):
    campaign = get_for_account_or_404(EmailCampaign, request.account, pk=pk)
    if not campaign.is_editable:
        messages.error(request, _("A campaign cannot be changed once sending started."))
        return redirect("campaigns:edit", pk=pk)
    design, changed_elsewhere = selectors.campaign_design(campaign)
    start = request.GET.get("start", "")
    if start:
        try:
            design, changed_elsewhere = selectors.design_from_start(request.account, start), False
        except (KeyError, EmailTemplate.DoesNotExist) as error:
            raise Http404 from error
    if design is None:
        context = {"campaign": campaign, "target": campaign.name, **_start_choices(request)}
        return render(request, "campaigns/editor_start.html", context)
    context = _editor_context(
        request,
        design=design,
        title=campaign.name,
        kind="campaign",
        save_url=reverse("campaigns:campaign_editor_save", args=[pk]),
        testUrl=reverse("campaigns:campaign_editor_send_test", args=[pk]),
        editUrl=reverse("campaigns:campaign_editor", args=[pk]),
        backUrl=reverse("campaigns:edit", args=[pk]),
        campaign=campaign,
        changed_elsewhere=changed_elsewhere,
    )
    return render(request, "campaigns/editor.html", context)


@account_required
@require_POST
def campaign_editor_save(request, pk):
    campaign = get_for_account_or_404(EmailCampaign, request.account, pk=pk)
    try:
        saved = campaign_design_save(campaign=campaign, design=_json_body(request).get("design"))
    except ServiceError as error:
        return _error(error)
    return JsonResponse({"saved": True, "warnings": saved.warnings})


@account_required
@require_POST
def campaign_editor_send_test(request, pk):
    campaign = get_for_account_or_404(EmailCampaign, request.account, pk=pk)
    try:
        recipients = _json_body(request).get("recipients")
        if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
            raise ServiceError({"recipients": _("Give between 1 and 10 addresses.")})
        recipients = [r.strip() for r in recipients if r.strip()]
        _check_addresses(recipients)
        sent = services.campaign_send_test(campaign=campaign, recipients=recipients)
    except ServiceError as error:
        return _error(error)
    return JsonResponse({"sent": sent})


def _check_addresses(addresses: list[str]) -> None:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    for address in addresses:
        try:
            validate_email(address)
        except ValidationError as error:
            raise ServiceError(
                {"recipients": _("%(address)s is not an email address.") % {"address": address}}
            ) from error


@account_required
def template_editor_page(request, pk=None):
    template = get_for_account_or_404(EmailTemplate, request.account, pk=pk) if pk else None
    start = request.GET.get("start", "")
    if template is None and not start:
        context = {"campaign": None, "target": _("New template"), **_start_choices(request)}
        return render(request, "campaigns/editor_start.html", context)
    try:
        design = (
            selectors.design_from_start(request.account, start)
            if start
            else selectors.template_design(template)
        )
    except (KeyError, EmailTemplate.DoesNotExist) as error:
        raise Http404 from error
    save_url = (
        reverse("campaigns:template_editor_save", args=[pk])
        if template
        else reverse("campaigns:template_editor_create")
    )
    context = _editor_context(
        request,
        design=design,
        title=template.name if template else _("New template"),
        kind="template",
        save_url=save_url,
        backUrl=reverse("campaigns:gallery"),
        template=template,
    )
    return render(request, "campaigns/editor.html", context)


@account_required
@require_POST
def template_editor_save(request, pk=None):
    template = get_for_account_or_404(EmailTemplate, request.account, pk=pk) if pk else None
    try:
        data = _json_body(request)
        name = data.get("name") if isinstance(data.get("name"), str) else ""
        template, saved = template_design_save(
            account=request.account, name=name, design=data.get("design"), template=template
        )
    except ServiceError as error:
        return _error(error)
    return JsonResponse(
        {
            "saved": True,
            "warnings": saved.warnings,
            "id": template.pk,
            "editUrl": reverse("campaigns:template_editor", args=[template.pk]),
            "saveUrl": reverse("campaigns:template_editor_save", args=[template.pk]),
        }
    )


@account_required
@require_POST
def editor_preview(request):
    """The design as a chosen contact will receive it: merge tags, inlined CSS, tracked links.
    The editor shows it in a sandboxed iframe (srcdoc): its HTML never runs in this origin."""
    try:
        data = _json_body(request)
        design = design_normalise(data.get("design"))
    except ServiceError as error:
        return _error(error)
    contact_id = data.get("contact")
    contact = (
        get_for_account_or_404(Contact, request.account, pk=contact_id)
        if type(contact_id) is int and 0 < contact_id < 2**63
        else Contact(account=request.account, fields={})
    )
    subject = data.get("subject") if isinstance(data.get("subject"), str) else ""
    try:
        html = compile_design(design, title=subject)
    except ServiceError as error:
        return _error(error)
    # No tracking in a preview: its pixel and links would name a message that does not exist.
    draft = EmailCampaign(
        account=request.account,
        subject=subject,
        html=html,
        track_opens=False,
        track_clicks=False,
    )
    prepared = rendering.prepare(draft)
    values = merge_tags.contact_values(contact, request.account)
    preview = Message(pk=0, campaign=draft, email=contact.email or "preview@example.com")
    email = rendering.build_email(prepared, preview, values, preheader="")
    return HttpResponse(email.alternatives[0][0], content_type="text/plain; charset=utf-8")


@account_required
@require_POST
def editor_image_upload(request):
    upload = request.FILES.get("image")
    if upload is None:
        return _error(ServiceError({"image": _("Choose an image.")}))
    try:
        url = image_upload(account=request.account, upload=upload)
    except ServiceError as error:
        return _error(error)
    return JsonResponse({"url": url}, status=201)


@require_GET
def editor_image(request, name):
    """An image of an email, for anyone the email reaches (names are random and unguessable)."""
    if not STORED_IMAGE.fullmatch(name) or not default_storage.exists(name):
        raise Http404
    response = FileResponse(default_storage.open(name), content_type=mimetypes.guess_type(name)[0])
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@account_required
@require_POST
def editor_saved_section_create(request):
    try:
        data = _json_body(request)
        saved = saved_section_create(
            account=request.account, name=data.get("name"), section=data.get("section")
        )
    except ServiceError as error:
        return _error(error)
    return JsonResponse(
        {
            "id": saved.pk,
            "name": saved.name,
            "section": saved.section,
            "deleteUrl": reverse("campaigns:editor_saved_section_delete", args=[saved.pk]),
        },
        status=201,
    )


@account_required
@require_POST
def editor_saved_section_delete(request, pk):
    saved_section_delete(saved=get_for_account_or_404(SavedSection, request.account, pk=pk))
    return JsonResponse({"deleted": True})
