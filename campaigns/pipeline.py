"""The email send pipeline: the send engine (campaigns/engine/) bound to the email channel.

Kept as the email side's entry point for its callers (API, pages, services, stats, tests,
benchmarks); the lifecycle services take any channel's campaign.
"""

from campaigns.email_channel import EMAIL
from campaigns.engine import audience as _audience
from campaigns.engine import sending as _sending
from campaigns.engine.lifecycle import (
    campaign_cancel,
    campaign_finish_if_done,
    campaign_pause,
    campaign_resume,
    campaign_start,
)
from campaigns.engine.sending import BATCH_SIZE, MAX_ATTEMPTS, lease, message_send_one

__all__ = [
    "BATCH_SIZE",
    "MAX_ATTEMPTS",
    "audience",
    "audience_for",
    "campaign_cancel",
    "campaign_finish_if_done",
    "campaign_pause",
    "campaign_resume",
    "campaign_start",
    "claim_batch",
    "freeze_audience",
    "lease",
    "message_mark_bounced",
    "message_send_one",
    "recover_expired_leases",
    "send_batch",
]


def audience(campaign):
    """Who may receive the campaign now."""
    return _audience.audience(EMAIL, campaign)


def audience_for(account, *, lists, segments, excluded_lists, excluded_segments):
    """Lists ∪ segments − exclusions, then email consent and suppression."""
    return _audience.audience_for(
        EMAIL,
        account,
        lists=lists,
        segments=segments,
        excluded_lists=excluded_lists,
        excluded_segments=excluded_segments,
    )


def freeze_audience(campaign) -> int:
    return _audience.freeze_audience(EMAIL, campaign)


def message_mark_bounced(message_id: int, reason: str) -> None:
    _sending.message_mark_bounced(EMAIL, message_id, reason)


def claim_batch(campaign_id: int, size: int = BATCH_SIZE) -> list[int]:
    return _sending.claim_batch(EMAIL, campaign_id, size)


def send_batch(campaign_id: int) -> int:
    return _sending.send_batch(EMAIL, campaign_id)


def recover_expired_leases(now=None) -> int:
    return _sending.recover_expired_leases(EMAIL, now)
