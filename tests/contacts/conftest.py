import pytest

from contacts.services.fields import field_create


@pytest.fixture
def custom_fields(account):
    return {
        "points": field_create(account=account, key="points", label="Points", type="number"),
        "spent": field_create(account=account, key="spent", label="Montant", type="decimal"),
        "last_order": field_create(
            account=account, key="last_order", label="Dernière commande", type="date"
        ),
        "shop": field_create(
            account=account, key="shop", label="Magasin", type="choice", choices=["Paris", "Lyon"]
        ),
        "vip": field_create(account=account, key="vip", label="VIP", type="boolean"),
    }
