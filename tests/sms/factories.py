"""factory_boy factories of the sms app (tests/factories.py holds the shared ones)."""

import factory

from sms.models import SmsCampaign, SmsSender
from tests.factories import AccountFactory


class SmsSenderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SmsSender

    account = factory.SubFactory(AccountFactory)
    value = "Boutique"


class SmsCampaignFactory(factory.django.DjangoModelFactory):
    """A marketing draft with a sender and a text; a test adds its audience."""

    class Meta:
        model = SmsCampaign
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"SMS campaign {n}")
    sender = factory.SubFactory(SmsSenderFactory, account=factory.SelfAttribute("..account"))
    text = "Bonjour {{ first_name }}, -20 % ce week-end"

    @factory.post_generation
    def lists(self, create, extracted, **kwargs):
        if create and extracted:
            self.lists.set(extracted)

    @factory.post_generation
    def excluded_lists(self, create, extracted, **kwargs):
        if create and extracted:
            self.excluded_lists.set(extracted)
