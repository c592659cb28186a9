from accounts.models import Account, Membership, User


def memberships_of(user: User):
    return (
        Membership.objects.filter(user=user)
        .select_related("account")
        .order_by("account__name", "pk")
    )


def membership_for(user: User, account_id: int | None) -> Membership | None:
    """The user's membership in the given account, or their first one."""
    memberships = memberships_of(user)
    if account_id is not None:
        chosen = memberships.filter(account_id=account_id).first()
        if chosen is not None:
            return chosen
    return memberships.first()


def account_by_number(number: str) -> Account | None:
    return Account.objects.filter(number=number).first()


def account_may_send(account: Account) -> bool:
    """An account sends once its owner proved their address (accounts.services)."""
    return account.email_verified_at is not None
