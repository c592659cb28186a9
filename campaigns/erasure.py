"""GDPR erasure of a contact, for the messages the email channel sent them."""

from django.db.models import F, Value
from django.db.models.functions import Cast, Concat
from django.dispatch import receiver

from campaigns.models import Message
from contacts.signals import contact_erased


@receiver(contact_erased, dispatch_uid="campaigns.erasure.anonymise_messages")
def anonymise_messages(sender, contact, **kwargs):
    """Messages keep their outcome for the statistics but lose the address and the error the
    remote server gave (it often quotes the address)."""
    Message.objects.filter(contact=contact).update(
        email=Concat(Value("erased."), Cast(F("pk"), output_field=Message._meta.get_field("email")),
                     Value("@invalid")),
        error="",
    )  # fmt: skip
