"""The getting-started steps and how each is known to be done, from the account's own data."""

from django.utils.translation import gettext_lazy as _

from accounts.getting_started import Step, milestone_reached, register_step
from accounts.models import AccountMilestone
from apikeys.models import ApiKey
from campaigns.models import SenderAddress
from connectors.models import ShopConnection
from contacts.models import Contact


def register_getting_started_steps() -> None:
    register_step(
        Step(
            key="contacts",
            order=10,
            label=_("Import your contacts"),
            hint=_("A CSV or Excel file, with their consent."),
            url_name="contacts:import_upload",
            is_done=lambda account: Contact.objects.filter(account=account).exists(),
        )
    )
    register_step(
        Step(
            key="sender",
            order=20,
            label=_("Verify a sender address"),
            hint=_("Campaigns leave from an address you have confirmed."),
            url_name="campaigns:senders",
            is_done=lambda account: SenderAddress.objects.filter(
                account=account, verified_at__isnull=False
            ).exists(),
        )
    )
    register_step(
        Step(
            key="test",
            order=30,
            label=_("Send yourself a test"),
            hint=_("See a campaign in your own mailbox before your contacts do."),
            url_name="campaigns:list",
            is_done=lambda account: milestone_reached(account, AccountMilestone.Kind.TEST_SENT),
        )
    )
    register_step(
        Step(
            key="api_key",
            order=40,
            label=_("Create an API key"),
            hint=_("Connect your website or CRM through the REST API."),
            url_name="apikeys:list",
            is_done=lambda account: ApiKey.objects.filter(
                account=account, revoked_at__isnull=True
            ).exists(),
        )
    )
    register_step(
        Step(
            key="shop",
            order=50,
            label=_("Connect your shop"),
            hint=_("Magento 2 and PrestaShop: customers, orders and abandoned carts."),
            url_name="connectors:list",
            is_done=lambda account: ShopConnection.objects.filter(account=account).exists(),
        )
    )
