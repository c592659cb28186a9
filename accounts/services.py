import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.errors import ConflictError, ServiceError
from accounts.mail import send_account_mail
from accounts.models import Account, Membership, User
from accounts.selectors import account_may_send

EMAIL_VERIFICATION_SALT = "accounts.email-verification"
EMAIL_VERIFICATION_MAX_AGE = 3 * 24 * 3600  # seconds: long enough for a weekend


class EmailAlreadyRegistered(ServiceError):
    code = "email_taken"


class EmailNotVerified(ConflictError):
    code = "email_not_verified"


class InvalidVerificationLink(ServiceError):
    code = "invalid_verification_link"


def _new_account_number() -> str:
    # Eight digits, never starting with 0, so it reads and types like a customer number.
    return str(secrets.randbelow(90_000_000) + 10_000_000)


def account_create(
    *,
    name: str,
    timezone: str = "Europe/Paris",
    language: str = "fr",
    default_phone_region: str = "FR",
) -> Account:
    for _attempt in range(10):
        try:
            with transaction.atomic():
                return Account.objects.create(
                    name=name.strip(),
                    number=_new_account_number(),
                    timezone=timezone,
                    language=language,
                    default_phone_region=default_phone_region,
                )
        except IntegrityError:
            continue  # the random number was taken; draw another
    raise RuntimeError("Could not allocate a unique account number.")


@transaction.atomic
def account_create_with_owner(
    *,
    name: str,
    owner_email: str,
    owner_password: str | None,
    language: str = "fr",
    email_verified: bool = False,
) -> tuple[Account, User]:
    """Sign-up: a new tenant and the person who owns it.

    `email_verified`: the operator vouches for the address (createaccount, demo); otherwise the
    owner must follow the link of `email_verification_send` before the account may send."""
    email = owner_email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise EmailAlreadyRegistered({"email": _("An account already uses this email address.")})
    if owner_password is not None:
        try:
            validate_password(owner_password, User(email=email))
        except ValidationError as error:
            raise ServiceError({"password": list(error.messages)}) from error
    account = account_create(name=name, language=language)
    if email_verified:
        account.email_verified_at = timezone.now()
        account.save(update_fields=["email_verified_at"])
    user = User.objects.create_user(email=email, password=owner_password)
    Membership.objects.create(user=user, account=account, role=Membership.Role.OWNER)
    return account, user


def email_verification_link(*, user: User, account: Account) -> str:
    # The address is signed with the ids: a link stops working if the address changes.
    token = signing.dumps(
        {"a": account.pk, "u": user.pk, "e": user.email}, salt=EMAIL_VERIFICATION_SALT
    )
    return settings.PUBLIC_BASE_URL + reverse("accounts:verify_email", args=[token])


def email_verification_send(*, user: User, account: Account) -> None:
    """Mail `user` (a member of `account`) the signed, expiring link that proves they read
    their address. Tagged with the account, so on the embedded default it shows in that
    account's outbox."""
    if account.email_verified_at is not None:
        return
    link = email_verification_link(user=user, account=account)
    with translation.override(account.language or settings.LANGUAGE_CODE):
        subject = _("Confirm your email address")
        message = _(
            "Welcome to Sendethic!\n\nTo confirm that %(email)s is your address and start "
            "sending campaigns, open this link (valid for 3 days):\n\n%(link)s\n\n"
            "If you did not create an account, ignore this email."
        ) % {"email": user.email, "link": link}
    transaction.on_commit(
        lambda: send_account_mail(
            account_id=account.pk, subject=subject, message=message, recipient_list=[user.email]
        )
    )


def email_verify(*, token: str) -> Account:
    try:
        payload = signing.loads(
            token, salt=EMAIL_VERIFICATION_SALT, max_age=EMAIL_VERIFICATION_MAX_AGE
        )
    except signing.SignatureExpired as error:
        raise InvalidVerificationLink(
            _("This link has expired: ask for a new one from your account.")
        ) from error
    except signing.BadSignature as error:
        raise InvalidVerificationLink(_("This link is not valid.")) from error
    account = Account.objects.filter(
        pk=payload["a"], memberships__user_id=payload["u"], memberships__user__email=payload["e"]
    ).first()
    if account is None:  # the person left the account, or changed address
        raise InvalidVerificationLink(_("This link is not valid."))
    # A filtered update: following the link twice (or from two tabs) keeps the first date.
    Account.objects.filter(pk=account.pk, email_verified_at__isnull=True).update(
        email_verified_at=timezone.now()
    )
    account.refresh_from_db(fields=["email_verified_at"])
    return account


def ensure_account_may_send(account: Account) -> None:
    """The one rule every send path asks (campaign start/schedule, test sends, any channel)."""
    if not account_may_send(account):
        raise EmailNotVerified(
            _(
                "Confirm your email address before sending: open the link we emailed you, "
                "or ask for a new one."
            )
        )


@transaction.atomic
def account_update(*, account: Account, **changes) -> Account:
    allowed = {"name", "timezone", "language", "default_phone_region", "postal_address"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"Fields not editable: {sorted(unknown)}")  # a caller's bug, not a user's
    for field, value in changes.items():
        setattr(account, field, value)
    try:
        account.full_clean()
    except ValidationError as error:
        raise ServiceError(error.message_dict) from error
    account.save(update_fields=sorted(changes))
    return account


@transaction.atomic
def membership_add(*, account: Account, user: User, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        account=account, user=user, defaults={"role": role}
    )
    return membership
