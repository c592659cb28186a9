"""Bootstrap of the embedded default (`make run`): a demo account to log into, and a fresh key."""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Account, Membership, User
from accounts.services import account_create_with_owner
from apikeys.models import ApiKey
from apikeys.services import api_key_create, api_key_revoke

DEMO_EMAIL = "demo@sendethic.local"
DEMO_ACCOUNT = "Démo Sendethic"
DEMO_KEY_NAME = "demo (make run)"


class Command(BaseCommand):
    help = "Create the demo account on first run; print its login and a fresh API key every run."

    @transaction.atomic
    def handle(self, *args, **options):
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
        # Replace the previous demo key rather than piling keys up to the limit of five.
        for old_key in ApiKey.objects.filter(
            account=account, name=DEMO_KEY_NAME, revoked_at__isnull=True
        ):
            api_key_revoke(api_key=old_key)
        _key, plaintext = api_key_create(
            account=account, name=DEMO_KEY_NAME, mode=ApiKey.Mode.LIVE, actor=user
        )
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"  Sendethic is starting on {settings.PUBLIC_BASE_URL}/",
                    f"  Log in:   {DEMO_EMAIL} / {password}",
                    f"  Account:  {account.name}, number {account.number}",
                    f"  API key:  {plaintext}",
                    f"  Try:      curl -H 'Authorization: Bearer {plaintext}' "
                    f"{settings.PUBLIC_BASE_URL}/api/v1/account/",
                    "",
                ]
            )
        )
