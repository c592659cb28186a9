"""GDPR erasure of a contact, for what the email side keeps about them."""

from django.db.models import F, Value
from django.db.models.functions import Cast, Concat
from django.dispatch import receiver

from campaigns.models import Message
from contacts.signals import contact_erased
from stats.models import EmailEvent, TrackingHit


@receiver(contact_erased)
def anonymise_email_history(sender, contact, **kwargs):
    """Messages keep their outcome for the statistics but lose the address; events lose the IP
    address and user agent; hits not yet ingested are dropped."""
    messages = Message.objects.filter(contact=contact)
    TrackingHit.objects.filter(message_id__in=messages.values("pk")).delete()
    EmailEvent.objects.filter(contact=contact).update(ip_address=None, user_agent="", detail="")
    messages.update(
        email=Concat(Value("erased."), Cast(F("pk"), output_field=Message._meta.get_field("email")),
                     Value("@invalid")),
        error="",
    )  # fmt: skip
