from functools import wraps

from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services
from accounts.errors import ServiceError
from accounts.forms import AccountSettingsForm, LoginForm, SignupForm, add_service_error
from accounts.getting_started import checklist_dismiss, checklist_for, checklist_restore
from accounts.middleware import SESSION_ACCOUNT_KEY
from accounts.selectors import membership_for
from accounts.throttle import (
    login_attempt_allowed,
    login_failure_record,
    signup_attempt_allowed,
    verification_resend_allowed,
)


def account_required(view):
    """A logged-in user with a current account (request.account)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.account is None:
            return HttpResponseForbidden(_("You are not a member of any account."))
        return view(request, *args, **kwargs)

    return wrapper


def manager_required(view):
    """Owners and admins only: settings, API keys."""

    @account_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.can_manage:
            return HttpResponseForbidden(_("Only owners and administrators can do this."))
        return view(request, *args, **kwargs)

    return wrapper


class LoginView(auth_views.LoginView):
    """Django's login, behind the hourly limits of accounts.throttle (axes keeps its own)."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        self.client_ip = get_client_ip_address(request) or ""
        self.typed_username = request.POST.get("username", "")
        if not login_attempt_allowed(ip_address=self.client_ip, username=self.typed_username):
            return render(request, "accounts/locked_out.html", {"hourly_limit": True}, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        login_failure_record(ip_address=self.client_ip, username=self.typed_username)
        return super().form_invalid(form)


def signup(request):
    if request.user.is_authenticated:
        return redirect("accounts:dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and not signup_attempt_allowed(
        ip_address=get_client_ip_address(request) or "", email=request.POST.get("email", "")
    ):
        form.full_clean()
        form.add_error(None, _("Too many sign-up attempts: try again in an hour."))
        return render(request, "accounts/signup.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        try:
            account, user = services.account_create_with_owner(
                name=form.cleaned_data["company"],
                owner_email=form.cleaned_data["email"],
                owner_password=form.cleaned_data["password"],
                language=request.LANGUAGE_CODE,
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            services.email_verification_send(user=user, account=account)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_ACCOUNT_KEY] = account.pk
            messages.success(
                request,
                _(
                    "Welcome! Your account number is %(number)s. We emailed you a link to "
                    "confirm your address."
                )
                % {"number": account.number},
            )
            return redirect("accounts:dashboard")
    return render(request, "accounts/signup.html", {"form": form})


def verify_email(request, token):
    """The link mailed at signup: proves the address, which lets the account send."""
    try:
        services.email_verify(token=token)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your email address is confirmed: you can send campaigns."))
    return redirect("accounts:dashboard" if request.user.is_authenticated else "accounts:login")


@account_required
@require_POST
def resend_verification(request):
    if request.account.email_verified_at is not None:
        messages.info(request, _("Your email address is already confirmed."))
    elif not verification_resend_allowed(user_id=request.user.pk):
        messages.error(request, _("Too many links asked for: try again in an hour."))
    else:
        services.email_verification_send(user=request.user, account=request.account)
        messages.success(
            request, _("A new link was sent to %(email)s.") % {"email": request.user.email}
        )
    return redirect("accounts:dashboard")


@account_required
def dashboard(request):
    checklist = checklist_for(request.account)
    return render(request, "accounts/dashboard.html", {"checklist": checklist})


@account_required
@require_POST
def getting_started_toggle(request):
    """Hide the getting-started checklist for the account, or bring it back."""
    if request.POST.get("show"):
        checklist_restore(account=request.account)
    else:
        checklist_dismiss(account=request.account)
        messages.success(request, _("The getting-started checklist is hidden."))
    return redirect("accounts:dashboard")


@login_required
@require_POST
def switch_account(request):
    try:
        wanted = int(request.POST.get("account", ""))
    except ValueError:
        wanted = None
    membership = membership_for(request.user, wanted)
    if membership is None or membership.account_id != wanted:
        messages.error(request, _("You are not a member of that account."))
    else:
        request.session[SESSION_ACCOUNT_KEY] = membership.account_id
        messages.success(request, _("Now working in %(name)s.") % {"name": membership.account.name})
    return redirect("accounts:dashboard")


@manager_required
def account_settings(request):
    form = AccountSettingsForm(request.POST or None, instance=request.account)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(
                account=request.account,
                **{field: form.cleaned_data[field] for field in form.Meta.fields},
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("accounts:settings")
    return render(request, "accounts/settings.html", {"form": form})
