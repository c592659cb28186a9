"""What a channel gives the send engine, what a delivery backend answers, and the registry.

Modelled on listmonk's messenger interface: the engine asks a backend to send one rendered
message and gets back one of four answers, and decides everything else (retry, bounce, requeue)
itself, so every channel and every provider behaves the same way.

A channel's campaign and message models extend the abstract `SendableCampaign` and
`SendableMessage` (campaigns/engine/models.py): the columns the engine reads and writes. The
message model adds the `campaign` foreign key and the channel's address column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from django.db import models


@dataclass(frozen=True)
class Sent:
    provider_id: str


@dataclass(frozen=True)
class RetryLater:
    """A temporary refusal: the engine tries again after a backoff, up to MAX_ATTEMPTS."""

    detail: str


@dataclass(frozen=True)
class PermanentFailure:
    """The provider refused this message for good. `suppress`: the address itself is dead (a
    hard bounce), so the channel's suppression list gets it."""

    detail: str
    suppress: bool = True


@dataclass(frozen=True)
class ConnectionLost:
    """The provider went away: this message and the rest of the batch go back to the queue and
    the task retries later."""

    detail: str


Outcome = Sent | RetryLater | PermanentFailure | ConnectionLost


class BackendUnavailable(Exception):
    """Raised by DeliveryBackend.open() when the provider cannot be reached at all."""


class DeliveryInterrupted(Exception):
    """Raised by the engine after a ConnectionLost (or BackendUnavailable): the batch was put
    back in the queue; the caller (a task) retries later."""


class DeliveryBackend(Protocol):
    """One connection to a provider, opened for a batch.

    A backend whose protocol answers each message in turn on its connection (an HTTP API) may
    also split `send` in two: `hand(rendered)` writes the message to the provider and returns
    None (or the ConnectionLost that stopped it), `outcome()` waits for and reads the answer to
    the message handed last. The engine then renders the next message while the provider
    answers; it still records each outcome before it hands the next message."""

    def open(self) -> None: ...

    def close(self) -> None: ...

    def send(self, rendered: Any) -> Outcome: ...


class Channel:
    """A way of reaching contacts. Subclasses fill the class attributes and the three methods."""

    name: ClassVar[str]
    campaign_model: ClassVar[type[models.Model]]
    message_model: ClassVar[type[models.Model]]
    # The contact's column holding the address, and the message's copy of it.
    contact_address_field: ClassVar[str]
    message_address_field: ClassVar[str]
    # The contact's consent status field for this channel, and the suppression list's channel.
    consent_field: ClassVar[str]
    suppression_channel: ClassVar[str]
    # Loaded with the campaign for every batch (what prepare() reads).
    campaign_related: ClassVar[tuple[str, ...]] = ("account",)
    # The contact's fields that render() reads, loaded with each message; None: all of them.
    # Naming them spares decoding the others (typed copies of custom fields, a phone number
    # parsed by libphonenumber…) for every message of a batch.
    contact_columns: ClassVar[tuple[str, ...] | None] = None
    # The message's own fields that render(), not_before() and addressed_without_contact()
    # read, besides those the engine reads (MESSAGE_COLUMNS); None: all of them. A field left
    # out still loads when read, one query per message: name every one.
    message_columns: ClassVar[tuple[str, ...] | None] = None

    def prepare(self, campaign) -> Any:
        """What every message of the campaign shares, computed once per batch."""
        raise NotImplementedError

    def render(self, prepared, message) -> Any:
        """One message (its contact loaded) in the form this channel's backends send."""
        raise NotImplementedError

    def backend(self, prepared) -> DeliveryBackend:
        """A delivery backend for one batch, not yet opened."""
        raise NotImplementedError

    def rate(self, account) -> int:
        """Messages per second the account may send on this channel."""
        raise NotImplementedError

    def not_before(self, prepared, message, now: datetime) -> datetime | None:
        """The earliest time `message` may be handed to a provider, when that is later than
        `now` (hours a law or the account allows); None: now. The engine defers a message to
        that time (queued, its attempt not counted), never drops it and never sends it early."""
        return None

    def refusal_to_start(self, campaign) -> str:
        """Why a scheduled campaign may not start now that its time has come (what it was
        checked for when scheduled may have changed since: a sender removed, an audience gone);
        empty when it may start."""
        return ""

    def addressed_without_contact(self, message) -> bool:
        """Whether `message` was sent to an address alone (a transactional single send to a
        number that is no contact), rather than to a contact since erased (whose message the
        engine cancels)."""
        return False

    # The columns recorded_with_sent may name (the journal's fold writes these on PostgreSQL).
    sent_columns: ClassVar[tuple[str, ...]] = ()

    def recorded_with_sent(self, rendered) -> dict[str, Any]:
        """Columns of the message model to write with a sent message, from what was rendered
        (e.g. what it is billed as); each one of `sent_columns`."""
        return {}


_channels: dict[str, Channel] = {}


def register_channel(channel: Channel) -> None:
    _channels[channel.name] = channel


def channel_named(name: str) -> Channel:
    return _channels[name]


def channel_of(campaign) -> Channel:
    """The channel whose campaign model `campaign` is an instance of."""
    for channel in _channels.values():
        if isinstance(campaign, channel.campaign_model):
            return channel
    raise LookupError(f"no channel sends {type(campaign).__name__}")


def channels() -> list[Channel]:
    return list(_channels.values())
