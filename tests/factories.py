import factory

from accounts.models import Account, Membership, User
from apikeys.models import ApiKey
from apikeys.services import api_key_create


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Boutique {n}")
    number = factory.Sequence(lambda n: f"{20_000_000 + n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    account = factory.SubFactory(AccountFactory)
    role = Membership.Role.OWNER


def make_api_key(account, mode=ApiKey.Mode.LIVE, name="test key") -> tuple[ApiKey, str]:
    return api_key_create(account=account, name=name, mode=mode)
