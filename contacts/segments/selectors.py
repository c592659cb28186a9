"""Reading segments: their contacts and their counts, always computed live."""

from django.core.cache import cache
from django.db.models import QuerySet

from accounts.models import Account
from contacts.models import Segment
from contacts.segments.compiler import count_matching, segment_queryset
from contacts.segments.language import FieldCatalog, validate_rules

COUNT_CACHE_SECONDS = 60


def segments_of(account: Account) -> QuerySet[Segment]:
    return Segment.objects.filter(account=account)


def rules_contacts(account: Account, rules) -> QuerySet:
    """Contacts matching rules; re-validated, since fields and lists may have changed since the
    segment was saved (raises SegmentRuleError then)."""
    cleaned = validate_rules(rules, FieldCatalog.for_account(account), account)
    return segment_queryset(account, cleaned)


def rules_count(account: Account, rules) -> int:
    """The live count of rules (re-validated, as in rules_contacts)."""
    cleaned = validate_rules(rules, FieldCatalog.for_account(account), account)
    return count_matching(account, cleaned)


def segment_contacts(segment: Segment) -> QuerySet:
    return rules_contacts(segment.account, segment.rules)


def segment_count(segment: Segment) -> int:
    """Cached briefly; any change to the segment changes the key, so an edit shows at once."""
    key = f"segment-count:{segment.pk}:{segment.updated_at.timestamp()}"
    count = cache.get(key)
    if count is None:
        count = rules_count(segment.account, segment.rules)
        cache.set(key, count, COUNT_CACHE_SECONDS)
    return count
