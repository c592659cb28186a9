"""Reads of the email side: the pre-send checklist of a campaign.

One computation for every caller: the campaign page shows it, the API serves it
(`GET …/checklist/`), and the schedule service refuses a campaign whose blocking items fail, so
what the marketer sees ticked is exactly what sending checks.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campaigns import merge_tags
from campaigns.engine.audience import audience
from campaigns.engine.channel import channel_of
from campaigns.models import EmailCampaign


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    # The campaign (or account) field to change to satisfy the item: the API error names it.
    field: str
    ok: bool
    # A failing blocking item stops scheduling and sending; the others only warn.
    blocking: bool
    label: str
    # What is wrong and what to do, when the item fails; empty when it passes.
    problem: str = ""


@dataclass(frozen=True)
class Checklist:
    items: tuple[ChecklistItem, ...]
    # Who would receive the campaign if it started now (lists ∪ segments − exclusions, then
    # consent and suppression): the figure the send confirmation names.
    recipients: int

    @property
    def ready(self) -> bool:
        return not self.blocking_failures

    @property
    def blocking_failures(self) -> list[ChecklistItem]:
        return [item for item in self.items if item.blocking and not item.ok]

    @property
    def warnings(self) -> list[ChecklistItem]:
        return [item for item in self.items if not item.blocking and not item.ok]

    def errors(self) -> dict[str, list[str]]:
        """The failing blocking items by field, for the 409 of a refused send."""
        errors: dict[str, list[str]] = {}
        for item in self.blocking_failures:
            errors.setdefault(item.field, []).append(item.problem)
        return errors


def shows_unsubscribe_link(html: str) -> bool:
    return any(
        match.group("name") == "unsubscribe_url" for match in merge_tags.TAG.finditer(html or "")
    )


def campaign_checklist(campaign: EmailCampaign) -> Checklist:
    """What sending this campaign needs (blocking) and what a careful sender checks (warnings)."""
    account = campaign.account
    sender = campaign.sender
    has_audience = campaign.lists.exists() or campaign.segments.exists()
    # The engine's own audience query, the one that freezes the messages: no second opinion.
    recipients = audience(channel_of(campaign), campaign).count() if has_audience else 0
    if not has_audience:
        recipients_problem = _("Choose at least one list or segment.")
    else:
        recipients_problem = _(
            "Nobody in this audience can receive the campaign: 0 recipients once consent "
            "and unsubscribes are applied."
        )
    items = (
        ChecklistItem(
            "sender",
            "sender",
            ok=sender is not None and sender.is_verified,
            blocking=True,
            label=_("Verified sender address"),
            problem=_("Choose a verified sender address."),
        ),
        ChecklistItem(
            "subject",
            "subject",
            ok=bool(campaign.subject.strip()),
            blocking=True,
            label=_("Subject"),
            problem=_("A subject is required."),
        ),
        ChecklistItem(
            "preheader",
            "preheader",
            ok=bool(campaign.preheader.strip()),
            blocking=False,
            label=_("Pre-header"),
            problem=_("No pre-header: inboxes will show the first words of the email instead."),
        ),
        ChecklistItem(
            "content",
            "html",
            ok=bool(campaign.html.strip()),
            blocking=True,
            label=_("Content"),
            problem=_("The campaign has no content."),
        ),
        ChecklistItem(
            "unsubscribe_link",
            "html",
            ok=shows_unsubscribe_link(campaign.html),
            blocking=True,
            label=_("Unsubscribe link"),
            problem=_("The content must show the unsubscribe link {{ unsubscribe_url }}."),
        ),
        ChecklistItem(
            "recipients",
            "lists",
            ok=recipients > 0,
            blocking=True,
            label=ngettext("%(count)d recipient", "%(count)d recipients", recipients)
            % {"count": recipients},
            problem=recipients_problem,
        ),
        ChecklistItem(
            "postal_address",
            "postal_address",
            ok=bool(account.postal_address.strip()),
            blocking=True,
            label=_("Postal address of the account (printed in the footer)"),
            problem=_(
                "Enter your postal address in the account settings: the law requires it in "
                "every marketing email."
            ),
        ),
        ChecklistItem(
            "test_sent",
            "test_sent",
            ok=campaign.test_sent_at is not None,
            blocking=False,
            label=_("Test sent"),
            problem=_("Send yourself a test to check the email in a real inbox."),
        ),
    )
    return Checklist(items=items, recipients=recipients)
