import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.errors import ServiceError
from accounts.models import Account, Membership, User


class EmailAlreadyRegistered(ServiceError):
    code = "email_taken"


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
    *, name: str, owner_email: str, owner_password: str | None, language: str = "fr"
) -> tuple[Account, User]:
    """Sign-up: a new tenant and the person who owns it."""
    email = owner_email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise EmailAlreadyRegistered({"email": _("An account already uses this email address.")})
    account = account_create(name=name, language=language)
    user = User.objects.create_user(email=email, password=owner_password)
    Membership.objects.create(user=user, account=account, role=Membership.Role.OWNER)
    return account, user


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
