import pytest

from automations.models import Scenario
from automations.services import scenario_activate, scenario_create
from tests.factories import ContactFactory, SenderAddressFactory

HTML = '<p>Bonjour {{ first_name }}</p><a href="{{ unsubscribe_url }}">Se désinscrire</a>'


def email_step(sid, sender, subject="Bienvenue {{ first_name }}"):
    return {
        "id": sid,
        "kind": "email",
        "config": {"subject": subject, "html": HTML, "sender_id": sender.pk},
    }


def wait_step(sid, **config):
    return {"id": sid, "kind": "wait", "config": {"mode": "duration", **config}}


@pytest.fixture
def sender(account):
    return SenderAddressFactory(account=account, email="news@boutique.fr", name="Boutique")


@pytest.fixture
def zoe(account):
    return ContactFactory(
        account=account, email="zoe@example.com", first_name="Zoé", email_status="subscribed"
    )


@pytest.fixture
def make_scenario(account):
    def make(steps, *, activate=True, **data) -> Scenario:
        scenario = scenario_create(
            account=account, data={"name": "Accueil", "steps": steps, **data}
        )
        if activate:
            scenario = scenario_activate(scenario=scenario)
        return scenario

    return make
