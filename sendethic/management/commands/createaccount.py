from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from accounts.errors import ServiceError
from accounts.services import EmailAlreadyRegistered, account_create_with_owner
from apikeys.models import ApiKey
from apikeys.services import api_key_create


class Command(BaseCommand):
    help = (
        "Create an account and its owner. With --api-key, print a new live API key alone on the "
        "last line of the output, for scripts."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Account (company) name")
        parser.add_argument("--owner", required=True, help="Owner's email address")
        parser.add_argument("--password", help="Owner's password (none: must use password reset)")
        parser.add_argument("--language", choices=["fr", "en"], default="fr")
        parser.add_argument("--api-key", action="store_true", help="Also create a live API key")

    def handle(self, *args, name, owner, password, language, api_key, **options):
        try:
            validate_email(owner)
        except ValidationError as error:
            raise CommandError(f"Invalid owner email: {owner}") from error
        try:
            account, user = account_create_with_owner(
                name=name,
                owner_email=owner,
                owner_password=password,
                language=language,
                email_verified=True,  # the operator vouches for the address
            )
        except EmailAlreadyRegistered as error:
            raise CommandError(f"A user with the email {owner} already exists.") from error
        except ServiceError as error:  # e.g. a password Django's validators refuse
            raise CommandError(error.message) from error
        self.stdout.write(f"Account {account.name} created, number {account.number}.")
        self.stdout.write(f"Owner: {user.email}")
        if api_key:
            _key, plaintext = api_key_create(
                account=account, name="createaccount", mode=ApiKey.Mode.LIVE, actor=user
            )
            self.stdout.write(plaintext)
