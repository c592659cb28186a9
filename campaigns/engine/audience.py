"""Who receives a campaign: lists ∪ segments − exclusions, then the channel's consent and
suppression; frozen into queued messages in one INSERT … SELECT."""

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from campaigns.engine.channel import Channel
from contacts.models import SENDABLE_STATUSES, Contact, ListMembership, Suppression
from contacts.segments.functions import Sha256Hex
from contacts.segments.selectors import segment_contacts


def reachable(channel: Channel, account) -> QuerySet[Contact]:
    """The account's contacts this channel may write to: an address, consent, not suppressed."""
    address = channel.contact_address_field
    suppressed = Exists(
        Suppression.objects.filter(
            account=account,
            channel=channel.suppression_channel,
            address_hash=Sha256Hex(OuterRef(address)),
        )
    )
    return (
        Contact.objects.filter(
            account=account, **{f"{channel.consent_field}__in": SENDABLE_STATUSES}
        )
        .exclude(**{address: ""})
        .exclude(suppressed)
    )


def audience_for(
    channel: Channel, account, *, lists, segments, excluded_lists, excluded_segments
) -> QuerySet[Contact]:
    included = Q(pk__in=[])
    if lists:
        included |= Q(
            Exists(
                ListMembership.objects.filter(
                    contact=OuterRef("pk"),
                    contact_list__in=lists,
                    status=ListMembership.Status.SUBSCRIBED,
                )
            )
        )
    for segment in segments:
        included |= Q(pk__in=segment_contacts(segment).values("pk"))
    excluded = Q(pk__in=[])
    if excluded_lists:
        excluded |= Q(
            Exists(
                ListMembership.objects.filter(
                    contact=OuterRef("pk"), contact_list__in=excluded_lists
                )
            )
        )
    for segment in excluded_segments:
        excluded |= Q(pk__in=segment_contacts(segment).values("pk"))
    return reachable(channel, account).filter(included).exclude(excluded)


def audience(channel: Channel, campaign) -> QuerySet[Contact]:
    """Who may receive the campaign now."""
    return audience_for(
        channel,
        campaign.account,
        lists=list(campaign.lists.all()),
        segments=list(campaign.segments.all()),
        excluded_lists=list(campaign.excluded_lists.all()),
        excluded_segments=list(campaign.excluded_segments.all()),
    )


def freeze_audience(channel: Channel, campaign) -> int:
    """One queued message per address, in one INSERT … SELECT."""
    columns = (
        audience(channel, campaign)
        .order_by()
        .values(a_id=F("pk"), a_address=F(channel.contact_address_field))
    )
    try:
        sql, params = columns.query.sql_with_params()
    except EmptyResultSet:  # no list and no segment: a campaign that holds single sends only
        return 0
    table = channel.message_model._meta.db_table
    address = channel.message_address_field
    with connection.cursor() as cursor:
        # The conflict target is the partial unique index of campaign messages (one per address);
        # single sends (with an idempotency key) may reach one address many times.
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, contact_id, {address}, status, attempts, "  # noqa: S608
            f"message_id, error, created_at) SELECT %s, audience.a_id, audience.a_address, "
            f"'queued', 0, '', '', %s FROM ({sql}) AS audience WHERE true "
            f"ON CONFLICT (campaign_id, {address}) WHERE idempotency_key IS NULL DO NOTHING",
            [campaign.pk, timezone.now(), *params],
        )
        return cursor.rowcount
