import pytest

from connectors.credentials import ShopCredentials
from connectors.magento.simulator import MagentoShop, MagentoSimulator
from connectors.platforms import shop_client_for
from connectors.services import connection_create

SIMULATOR_CREDENTIALS = ShopCredentials(
    consumer_key="ck-simulator",
    consumer_secret="cs-simulator",  # noqa: S106 - the simulator's own test keys
    access_token="at-simulator",  # noqa: S106
    access_token_secret="ats-simulator",  # noqa: S106
)


def fast_client(connection):
    """The production client, without pacing or long backoff (the simulator is local)."""
    return shop_client_for(connection, rate_per_second=0, backoff_base=0.01, page_size=50)


@pytest.fixture
def shop():
    return MagentoShop(customers=120, seed=7)


@pytest.fixture
def simulator(shop):
    running = MagentoSimulator(shop).start()
    yield running
    running.stop()


@pytest.fixture
def connection(account, simulator):
    return connection_create(
        account=account,
        name="Boutique test",
        shop_url=simulator.url,
        credentials=SIMULATOR_CREDENTIALS,
    )
