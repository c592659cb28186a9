"""Dynamic segments: saved rule trees, validated against the account's fields on every save."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.errors import ConflictError
from accounts.models import Account
from contacts.models import Segment
from contacts.segments.language import FieldCatalog, SegmentRuleError, validate_rules


class SegmentNameTaken(SegmentRuleError, ConflictError):
    """Another segment of the account has this name (HTTP 409)."""


def _clean_rules(account: Account, rules) -> dict:
    return validate_rules(rules, FieldCatalog.for_account(account), account)


def segment_create(*, account: Account, name: str, rules, description: str = "") -> Segment:
    cleaned = _clean_rules(account, rules)
    try:
        with transaction.atomic():
            return Segment.objects.create(
                account=account, name=name.strip(), description=description, rules=cleaned
            )
    except IntegrityError as error:
        raise SegmentNameTaken({"name": _("a segment with this name already exists")}) from error


def segment_update(*, segment: Segment, name=None, description=None, rules=None) -> Segment:
    if rules is not None:
        segment.rules = _clean_rules(segment.account, rules)
    if name is not None:
        segment.name = name.strip()
    if description is not None:
        segment.description = description
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError as error:
        raise SegmentNameTaken({"name": _("a segment with this name already exists")}) from error
    return segment


def segment_delete(*, segment: Segment) -> None:
    segment.delete()
