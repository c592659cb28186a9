"""What the connectors do when the contact base announces a change (contacts.signals).

Connected in ConnectorsConfig.ready(). Receivers queue work and return: the shop is called by
the `sync` queue's workers, never inside the request that unsubscribed someone."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from connectors.models import ShopCart, ShopConnection, ShopCustomer, ShopOrder
from connectors.schedule import connection_schedule_remove, connection_schedule_sync
from connectors.tasks import write_back_opt_out_task
from contacts.models import Channel, ConsentRecord
from contacts.signals import contact_erased, contact_unsubscribed


@receiver(contact_unsubscribed, dispatch_uid="connectors.write_back")
def queue_opt_out_write_back(sender, account_id, contact_id, channel, source, **kwargs):
    if channel != Channel.EMAIL or source == ConsentRecord.Source.CONNECTOR:
        return
    if not ShopConnection.objects.filter(
        account_id=account_id, write_back=True, status=ShopConnection.Status.ACTIVE
    ).exists():
        return
    write_back_opt_out_task.delay(account_id, contact_id)


@receiver(contact_erased, dispatch_uid="connectors.erase_mirror")
def forget_erased_contact(sender, contact, **kwargs):
    """The mirror keeps emails: an erased contact's rows go with it."""
    for model in (ShopCustomer, ShopOrder, ShopCart):
        model.objects.filter(connection__account_id=contact.account_id, email=contact.key).delete()


# What moves a connection's next run: its creation, a run's end, the owner's interval or status.
SCHEDULE_FIELDS = {"next_run_at", "status"}


@receiver(post_save, sender=ShopConnection, dispatch_uid="connectors.schedule")
def keep_the_beat_entry_in_step(sender, instance, created, update_fields, **kwargs):
    if created or update_fields is None or SCHEDULE_FIELDS & set(update_fields):
        connection_schedule_sync(instance)


@receiver(post_delete, sender=ShopConnection, dispatch_uid="connectors.unschedule")
def remove_the_beat_entry(sender, instance, **kwargs):
    connection_schedule_remove(instance.pk)
