"""Bootstrap of the embedded default (`make run`): a demo account to log into, and a fresh key."""

import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Account, Membership, User
from accounts.services import account_create_with_owner
from apikeys.models import ApiKey
from apikeys.services import api_key_create, api_key_revoke
from connectors.demo import demo_shop_connect
from sendethic.demo_base import seed_demo_base

DEMO_EMAIL = "demo@sendethic.local"
DEMO_ACCOUNT = "Démo Sendethic"
DEMO_KEY_NAME = "demo (make run)"


class Command(BaseCommand):
    help = "Create the demo account on first run; print its login and a fresh API key every run."

    def add_arguments(self, parser):
        parser.add_argument(
            "--shop-port",
            type=int,
            default=int(os.environ.get("DEMO_SHOP_PORT") or 0),
            help="Loopback port of the demo Magento shop (the Procfile's `shop` process, "
            "`make run` gives it); 0: no demo shop.",
        )

    def handle(self, *args, **options):
        account, lines = self._account()
        if options["shop_port"]:
            # After the account's transaction: the import commits page by page.
            lines.insert(
                -2,
                f"  Shop:     {_shop_note(demo_shop_connect(account, port=options['shop_port']))}",
            )
        self.stdout.write("\n".join(lines))

    @transaction.atomic
    def _account(self):
        credentials_file = settings.VAR_DIR / "demo-credentials.txt"
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            account, user = account_create_with_owner(
                name=DEMO_ACCOUNT,
                owner_email=DEMO_EMAIL,
                owner_password=password,
                email_verified=True,  # the operator vouches for the address
            )
            credentials_file.parent.mkdir(parents=True, exist_ok=True)
            credentials_file.touch(mode=0o600)
            credentials_file.write_text(f"{DEMO_EMAIL} {password}\n")
        else:
            account = Account.objects.get(
                memberships__user=user, memberships__role=Membership.Role.OWNER
            )
            password = (
                credentials_file.read_text().split()[1]
                if credentials_file.exists()
                else "(unchanged since you set it)"
            )
        base = seed_demo_base(account)
        # Replace the previous demo key rather than piling keys up to the limit of five.
        for old_key in ApiKey.objects.filter(
            account=account, name=DEMO_KEY_NAME, revoked_at__isnull=True
        ):
            api_key_revoke(api_key=old_key)
        _key, plaintext = api_key_create(
            account=account, name=DEMO_KEY_NAME, mode=ApiKey.Mode.LIVE, actor=user
        )
        return account, (
            [
                "",
                f"  Sendethic is starting on {settings.PUBLIC_BASE_URL}/",
                f"  Log in:   {DEMO_EMAIL} / {password}",
                f"  Account:  {account.name}, number {account.number}",
                f"  Contacts: {base.contacts} {_base_note(base)}",
                f"  API key:  {plaintext}",
                f"  Try:      curl -H 'Authorization: Bearer {plaintext}' "
                f"{settings.PUBLIC_BASE_URL}/api/v1/account/",
                "",
            ]
        )


def _base_note(base) -> str:
    if base.already_there:
        return "(demo base already there)"
    if base.campaign is None:
        return "(demo base created; no demo campaign: mail would leave this machine)"
    return f"(demo base created, with the campaign “{base.campaign.name}” and its report)"


def _shop_note(summary) -> str:
    connection = summary.connection
    where = f"“{connection.name}” on {connection.shop_url}"
    if summary.run is None:
        return f"{where}, first import not done here ({summary.error}); the schedule runs it"
    run = summary.run
    state = "already imported" if summary.already_there else "first import done"
    return (
        f"{where}, {state} (run #{run.pk} {run.status}: {run.customers_read} customers, "
        f"{run.orders_read} orders, {run.contacts_created} contacts created)"
    )
