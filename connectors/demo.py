"""The demo shop of `make run`: a simulated Magento shop connected to the demo account, with its
first import done, so the connector pages show a real run log, shop fields and segments.

The same shop is served twice: in this process for the first import (so `manage.py demo`
returns with the import done, before the Procfile's processes start), then by the Procfile's
`shop` process (`shop_simulator magento --demo`) for the runs that follow ("Run now", the
schedule, "Test the connection"). Both generate it from the same seed and the same clock (the
start of the day, UTC), so they serve the same records.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from accounts.errors import ServiceError
from accounts.models import Account
from connectors.credentials import ShopCredentials
from connectors.magento.simulator import MagentoShop, MagentoSimulator
from connectors.models import ShopConnection, SyncRun
from connectors.platforms import shop_client_for
from connectors.selectors import connections_of
from connectors.services import connection_create, connection_update, sync_start
from connectors.sync import sync_run_execute

# Demo content is French, as the demo base's (sendethic.demo_base), whatever the locale.
DEMO_SHOP_NAME = "Boutique démo (Magento simulé)"
DEMO_CUSTOMERS = 150
DEMO_SEED = 14
# The simulator's own keys (connectors.magento.simulator): nothing secret about them.
DEMO_CREDENTIALS = ShopCredentials(
    consumer_key="ck-simulator",
    consumer_secret="cs-simulator",  # noqa: S106
    access_token="at-simulator",  # noqa: S106
    access_token_secret="ats-simulator",  # noqa: S106
)


def demo_shop() -> MagentoShop:
    """The demo shop's data: the same in every process started the same day."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return MagentoShop(customers=DEMO_CUSTOMERS, seed=DEMO_SEED, now=today)


@dataclass
class DemoShopSummary:
    connection: ShopConnection
    run: SyncRun | None
    already_there: bool = False
    error: str = ""


def demo_shop_connect(account: Account, *, port: int) -> DemoShopSummary:
    """Connect the demo shop served on 127.0.0.1:`port` and import it once; a second call only
    follows a changed port."""
    url = f"http://127.0.0.1:{port}"
    name = DEMO_SHOP_NAME
    connection = connections_of(account).filter(name=name).first()
    if connection is None:
        connection = connection_create(
            account=account, name=name, shop_url=url, credentials=DEMO_CREDENTIALS
        )
    elif connection.shop_url != url:
        connection = connection_update(connection=connection, shop_url=url)
    done = connection.runs.filter(status=SyncRun.Status.SUCCEEDED).order_by("-pk").first()
    if done is not None:
        return DemoShopSummary(connection=connection, run=done, already_there=True)
    try:
        simulator = MagentoSimulator(demo_shop(), port=port).start()
    except OSError as error:
        # The port is taken: the Procfile's shop will serve it, and the schedule imports it.
        return DemoShopSummary(connection=connection, run=None, error=str(error))
    try:
        run = sync_start(connection=connection, trigger=SyncRun.Trigger.MANUAL)
        # The worker that receives the queued run later finds it done and leaves it.
        run = sync_run_execute(run.pk, lambda c: shop_client_for(c, rate_per_second=0))
    except ServiceError as error:  # a run of a previous start is still queued
        return DemoShopSummary(connection=connection, run=None, error=error.message)
    finally:
        simulator.stop()
    return DemoShopSummary(connection=connection, run=run)
