"""GDPR erasure of a contact, for what stats keeps about them (the channel anonymises its own
messages: campaigns/erasure.py)."""

from django.dispatch import receiver

from campaigns.models import Message
from contacts.signals import contact_erased
from stats.models import EmailEvent, TrackingHit


@receiver(contact_erased, dispatch_uid="stats.erasure.anonymise_email_history")
def anonymise_email_history(sender, contact, **kwargs):
    """Events lose the IP address, user agent and diagnostic; hits not yet ingested are dropped."""
    messages = Message.objects.filter(contact=contact)
    TrackingHit.objects.filter(message_id__in=messages.values("pk")).delete()
    EmailEvent.objects.filter(contact=contact).update(ip_address=None, user_agent="", detail="")
