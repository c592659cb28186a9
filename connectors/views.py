"""The shop owner's connector settings pages (French first)."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.errors import ServiceError
from accounts.forms import add_service_error
from accounts.tenancy import get_for_account_or_404
from accounts.views import account_required
from connectors import selectors, services
from connectors.consolidation import segment_prefix
from connectors.credentials import decrypt_secret
from connectors.forms import ShopConnectionForm
from connectors.models import Platform, ShopConnection, SyncRun
from connectors.newsletter import newsletter_subscription_add
from connectors.shop_client import ShopError
from contacts.models import Segment


@account_required
def connection_list_page(request):
    connections = selectors.connections_of(request.account)
    return render(request, "connectors/connection_list.html", {"connections": connections})


@account_required
def connection_create_page(request):
    platform = request.POST.get("platform") or request.GET.get("platform") or Platform.MAGENTO
    form = ShopConnectionForm(request.POST or None, account=request.account, platform=platform)
    if request.method == "POST" and form.is_valid():
        try:
            connection = services.connection_create(
                account=request.account, credentials=form.credentials(), **form.options()
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Connection created. Test it, then run the first import."))
            return redirect("connectors:detail", pk=connection.pk)
    context = {"form": form, "platform": form.platform, "platforms": Platform.choices}
    return render(request, "connectors/connection_form.html", context)


@account_required
def connection_detail_page(request, pk):
    connection = get_for_account_or_404(ShopConnection, request.account, pk=pk)
    form = ShopConnectionForm(request.POST or None, instance=connection, account=request.account)
    if request.method == "POST" and form.is_valid():
        try:
            services.connection_update(
                connection=connection, credentials=form.credentials(), **form.options()
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("connectors:detail", pk=pk)
    runs = selectors.runs_of(connection)
    context = {
        "connection": connection,
        "form": form,
        "runs": runs,
        "active_run": next((run for run in runs if run.is_active), None),
        "segments": Segment.objects.filter(
            account=request.account, name__startswith=segment_prefix(connection)
        ),
        "webhook_url": request.build_absolute_uri(
            reverse("connectors:newsletter_add", args=[connection.pk])
        ),
        "webhook_secret": decrypt_secret(connection.webhook_secret_encrypted),
    }
    return render(request, "connectors/connection_detail.html", context)


@account_required
def connection_runs_fragment(request, pk):
    connection = get_for_account_or_404(ShopConnection, request.account, pk=pk)
    runs = selectors.runs_of(connection)
    context = {"connection": connection, "runs": runs,
               "active_run": next((run for run in runs if run.is_active), None)}  # fmt: skip
    return render(request, "connectors/_runs.html", context)


@account_required
@require_POST
def connection_test_page(request, pk):
    connection = get_for_account_or_404(ShopConnection, request.account, pk=pk)
    try:
        check = services.connection_test(connection=connection)
    except ShopError as error:
        messages.error(request, _("Connection failed: %(reason)s") % {"reason": error.message})
    else:
        views = ", ".join(f"{view.name} ({view.code})" for view in check.store_views)
        if check.ok and connection.platform == Platform.PRESTASHOP:
            shops = ", ".join(f"{view.id} — {view.name}" for view in check.store_views)
            messages.success(request, _("Connection works. Shops: %(shops)s.") % {"shops": shops})
        elif check.ok:
            messages.success(
                request, _("Connection works. Store views: %(views)s.") % {"views": views}
            )
        elif connection.platform == Platform.PRESTASHOP:
            messages.error(
                request,
                _("Connected, but the webservice key may not read: %(resources)s. Tick them in "
                  "PrestaShop (Advanced Parameters › Webservice).")
                % {"resources": ", ".join(check.missing_resources)},
            )  # fmt: skip
        else:
            messages.error(
                request,
                _("Connected, but the integration may not read: %(resources)s. Add them in "
                  "Magento (System › Integrations › API).")
                % {"resources": ", ".join(check.missing_resources)},
            )  # fmt: skip
    return redirect("connectors:detail", pk=pk)


@account_required
@require_POST
def connection_run_page(request, pk):
    connection = get_for_account_or_404(ShopConnection, request.account, pk=pk)
    try:
        services.sync_start(connection=connection, trigger=SyncRun.Trigger.MANUAL)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Sync queued."))
    return redirect("connectors:detail", pk=pk)


@account_required
@require_POST
def connection_pause_page(request, pk):
    connection = get_for_account_or_404(ShopConnection, request.account, pk=pk)
    if connection.status == ShopConnection.Status.ACTIVE:
        services.connection_pause(connection=connection)
        messages.success(request, _("Connection paused: no scheduled sync until you resume it."))
    else:
        services.connection_resume(connection=connection)
        messages.success(request, _("Connection resumed."))
    return redirect("connectors:detail", pk=pk)


@account_required
@require_POST
def run_stop_page(request, pk, run_pk):
    connection = get_for_account_or_404(ShopConnection, request.account, pk=pk)
    run = get_for_account_or_404(SyncRun, request.account, pk=run_pk, connection=connection)
    try:
        services.sync_stop(run=run)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The run stops after its current page."))
    return redirect("connectors:detail", pk=pk)


@csrf_exempt  # a server-to-server call, authenticated by its HMAC signature
@require_POST
def newsletter_add_hook(request, pk):
    connection = (
        ShopConnection.objects.select_related("account", "newsletter_list").filter(pk=pk).first()
    )
    if connection is None or not connection.newsletter_instant_add:
        return JsonResponse(
            {"code": "not_found", "message": "Not found.", "fields": {}}, status=404
        )
    try:
        contact = newsletter_subscription_add(
            connection=connection,
            body=request.body,
            timestamp=request.headers.get("X-Sendethic-Timestamp", ""),
            signature=request.headers.get("X-Sendethic-Signature", ""),
        )
    except ServiceError as error:
        status = (
            409 if error.code == "replayed" else (401 if error.code == "signature_refused" else 400)
        )
        return JsonResponse(
            {"code": error.code, "message": error.message, "fields": error.errors}, status=status
        )
    return JsonResponse({"status": contact.email_status}, status=200)
