"""The send engine's domain events (sent with `accounts.domain_events.send_on_commit`).

Every channel's engine sends them; stats, automations and outbound webhooks listen. Each is sent
with `sender` = the campaign or message model class and the keyword arguments listed.
"""

from django.dispatch import Signal

# campaign=<the campaign>, audience=<messages frozen>
campaign_started = Signal()
# campaign=<the campaign>
campaign_finished = Signal()
# message_id, campaign_id, account_id, contact_id (may be None), channel ("email", "sms"), at.
# The engine looks for receivers once per batch and sends nothing when there is none, so an
# unheard event costs a send nothing.
message_sent = Signal()
# the same payload; sent by whoever learns it (provider webhooks, DSN parser, tracking)
message_delivered = Signal()
# the same payload and `kind` ("hard" or "soft") and `detail`; the engine sends it ("hard") when
# the provider refuses a message for good at send time, DSN and webhook parsers when they learn it
message_bounced = Signal()
# the same payload
message_complained = Signal()
# the same payload and `machine` (True for privacy proxies and scanners)
message_opened = Signal()
# the same payload, `url` and `machine`
message_clicked = Signal()
