from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.errors import ServiceError
from accounts.forms import add_service_error
from accounts.tenancy import get_for_account_or_404
from accounts.views import manager_required
from apikeys.forms import ApiKeyForm
from apikeys.models import ApiKey
from apikeys.selectors import active_api_keys, api_keys_of
from apikeys.services import api_key_create, api_key_revoke

# The plaintext travels through the session exactly once, from the POST to the page it redirects to.
SESSION_NEW_KEY = "apikeys:new_key"


@manager_required
def api_key_list(request):
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            api_key, plaintext = api_key_create(
                account=request.account,
                name=form.cleaned_data["name"],
                mode=form.cleaned_data["mode"],
                actor=request.user,
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            request.session[SESSION_NEW_KEY] = {"id": api_key.pk, "key": plaintext}
            return redirect("apikeys:list")
    new_key = request.session.pop(SESSION_NEW_KEY, None)
    context = {
        "form": form,
        "api_keys": api_keys_of(request.account).select_related("created_by"),
        "active_count": active_api_keys(request.account).count(),
        "limit": settings.API_KEYS_PER_ACCOUNT,
        "new_key": new_key,
    }
    return render(request, "apikeys/list.html", context)


@manager_required
@require_POST
def api_key_revoke_view(request, pk):
    api_key = get_for_account_or_404(ApiKey, request.account, pk=pk)
    api_key_revoke(api_key=api_key)
    messages.success(request, _("Key “%(name)s” revoked.") % {"name": api_key.name})
    return redirect("apikeys:list")
