from accounts.selectors import account_may_send, memberships_of


def current_account(request):
    account = getattr(request, "account", None)
    if account is None:
        return {"current_account": None}
    return {
        "current_account": account,
        "current_membership": request.membership,
        "user_memberships": memberships_of(request.user),
        # The banner asking to confirm the address, until the account may send.
        "email_unverified": not account_may_send(account),
    }
