"""Reads of the block editor: the design to open, the merge-tag menu."""

from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from campaigns import merge_context, merge_tags
from campaigns.editor.compiler import design_to_html
from campaigns.editor.design import DesignInvalid, design_normalise
from campaigns.editor.importer import MjmlImportError, design_from_html, design_from_mjml
from campaigns.editor.starters import blank_design
from campaigns.gallery import template_source
from campaigns.models import EmailCampaign, EmailTemplate, SavedSection
from contacts.models import ContactField

CONTACT_TAG_LABELS = {
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "email": _("Email address"),
    "salutation": _("Salutation"),
    "city": _("City"),
    "company": _("Company"),
    "zip_code": _("Postal code"),
}


def merge_tag_menu(account: Account) -> list[dict[str, str]]:
    """The merge tags a marketer may insert: contact values, the account's fields, links."""
    menu = [
        {"tag": f"{{{{ {name} }}}}", "label": str(CONTACT_TAG_LABELS.get(name, name))}
        for name in merge_tags.CONTACT_TAGS
    ]
    menu += [
        {"tag": f"{{{{ fields.{key} }}}}", "label": label}
        for key, label in ContactField.objects.filter(account=account).values_list("key", "label")
    ]
    menu += [
        *merge_context.menu(),
        {"tag": "{{ account.name }}", "label": _("Account name")},
        {"tag": "{{ account.postal_address }}", "label": _("Postal address")},
        {"tag": "{{ unsubscribe_url }}", "label": _("Unsubscribe link")},
        {"tag": "{{ view_in_browser_url }}", "label": _("View in browser link")},
    ]
    return menu


def design_from_start(account: Account, start: str) -> dict:
    """The design a new editing session starts from: `gallery:<slug>`, `template:<pk>`, or
    blank. KeyError / EmailTemplate.DoesNotExist when it names nothing of the account's."""
    kind, _sep, value = start.partition(":")
    if kind == "gallery":
        return design_from_mjml(template_source(value))
    if kind == "template":
        if not value.isdigit():
            raise KeyError(start)
        return template_design(EmailTemplate.objects.get(account=account, pk=int(value)))
    return blank_design()


def template_design(template: EmailTemplate) -> dict:
    if template.design:
        return design_normalise(template.design)
    if template.kind == EmailTemplate.Kind.MJML:
        try:
            return design_from_mjml(template.source)
        except MjmlImportError:
            pass
    return design_from_html(template.html)


def campaign_design(campaign: EmailCampaign) -> tuple[dict | None, bool]:
    """(design, changed_elsewhere): the campaign's saved design, and whether its HTML was
    edited outside the editor since (saving from the editor would replace that HTML)."""
    if not campaign.design:
        return None, False
    try:
        design = design_normalise(campaign.design)
    except DesignInvalid:
        return None, False
    return design, design_to_html(design, title=campaign.subject or campaign.name) != campaign.html


def saved_sections(account: Account) -> list[dict]:
    """The account's reusable sections, as the editor inserts them (sanitised again: stored
    designs are re-checked whenever they are shown)."""
    sections = []
    for saved in SavedSection.objects.filter(account=account):
        try:
            section = design_normalise({"sections": [saved.section]})["sections"][0]
        except DesignInvalid:
            continue
        sections.append({"id": saved.pk, "name": saved.name, "section": section})
    return sections
