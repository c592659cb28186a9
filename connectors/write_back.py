"""Opt-out write-back: an unsubscribe here sets `is_subscribed=false` in the shop.

Without loops: the mirror's newsletter flag is set to false with the write, so the next sync
reads "unsubscribed" as no change; and an unsubscribe that came from the shop itself (source
"connector") is not written back (connectors.receivers decides what to queue).
"""

from connectors.models import ShopConnection, ShopCustomer


def opt_out_write_back(*, account_id: int, contact_id: int, client_factory) -> int:
    """PUT is_subscribed=false for each shop customer with this contact's address; returns how
    many were written."""
    from contacts.models import Contact

    contact = Contact.objects.filter(account_id=account_id, pk=contact_id).first()
    if contact is None:
        return 0
    written = 0
    connections = ShopConnection.objects.filter(
        account_id=account_id, write_back=True, status=ShopConnection.Status.ACTIVE
    )
    for connection in connections:
        customers = ShopCustomer.objects.filter(
            connection=connection, email=contact.key, is_subscribed=True
        )
        for customer in customers:
            client_factory(connection).set_subscription(
                external_id=customer.external_id, subscribed=False
            )
            ShopCustomer.objects.filter(pk=customer.pk).update(is_subscribed=False)
            written += 1
    return written
