"""factory_boy factories for the models tests build (DESIGN §9).

Each factory makes a valid row with the fewest choices made for the test; a test names what its
behaviour depends on (`ContactFactory(account=account, email_status="subscribed")`). Objects that
belong to an account take it from a related object when there is one (a message from its
campaign), so one `account=` is enough to keep a test inside one tenant.
"""

import factory
from django.utils import timezone

from accounts.models import Account, Membership, User
from apikeys.models import ApiKey
from apikeys.services import api_key_create
from campaigns.models import CampaignLink, EmailCampaign, EmailTemplate, Message, SenderAddress
from contacts.models import Contact, ContactList, ListMembership, Segment
from stats.models import EmailEvent


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Boutique {n}")
    number = factory.Sequence(lambda n: f"{20_000_000 + n}")
    # Accounts tests build may send; signup's unverified accounts are tested apart.
    email_verified_at = factory.LazyFunction(timezone.now)
    # Sending needs the address printed in every footer (the pre-send checklist blocks without).
    postal_address = "12 rue des Lilas, 69001 Lyon"


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
    """(ApiKey, plaintext): through the service, since only it knows the plaintext."""
    return api_key_create(account=account, name=name, mode=mode)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    # The account's default contact key is the email address.
    key = factory.LazyAttribute(lambda contact: contact.email)


class ContactListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactList

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"List {n}")


class ListMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ListMembership

    contact_list = factory.SubFactory(ContactListFactory)
    contact = factory.SubFactory(
        ContactFactory, account=factory.SelfAttribute("..contact_list.account")
    )


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Segment {n}")
    rules = factory.LazyFunction(lambda: {"all": []})


class SenderAddressFactory(factory.django.DjangoModelFactory):
    """A confirmed sender (campaigns can only be sent from one); `verified_at=None` for one
    waiting for its confirmation."""

    class Meta:
        model = SenderAddress

    account = factory.SubFactory(AccountFactory)
    email = factory.Sequence(lambda n: f"news{n}@shop.example")
    name = "Shop"
    verified_at = factory.LazyFunction(timezone.now)


class EmailTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailTemplate

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Template {n}")
    source = "<p>Bonjour {{ first_name }}</p>"
    html = factory.LazyAttribute(lambda template: template.source)


class EmailCampaignFactory(factory.django.DjangoModelFactory):
    """A draft with no sender, content or audience: a test adds what its behaviour needs."""

    class Meta:
        model = EmailCampaign
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    subject = "Hello"

    @factory.post_generation
    def lists(self, create, extracted, **kwargs):
        if create and extracted:
            self.lists.set(extracted)

    @factory.post_generation
    def segments(self, create, extracted, **kwargs):
        if create and extracted:
            self.segments.set(extracted)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    campaign = factory.SubFactory(EmailCampaignFactory)
    contact = factory.SubFactory(
        ContactFactory, account=factory.SelfAttribute("..campaign.account")
    )
    email = factory.LazyAttributeSequence(
        lambda message, n: message.contact.email if message.contact else f"recipient{n}@example.com"
    )


class CampaignLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignLink

    campaign = factory.SubFactory(EmailCampaignFactory)
    index = factory.Sequence(lambda n: n)
    url = factory.LazyAttribute(lambda link: f"https://shop.example/{link.index}")


class EmailEventFactory(factory.django.DjangoModelFactory):
    """An open of its message, now; the campaign, account and contact are the message's."""

    class Meta:
        model = EmailEvent

    message = factory.SubFactory(MessageFactory)
    campaign = factory.SelfAttribute("message.campaign")
    account = factory.SelfAttribute("campaign.account")
    contact = factory.SelfAttribute("message.contact")
    kind = EmailEvent.Kind.OPEN
    occurred_at = factory.LazyFunction(timezone.now)
