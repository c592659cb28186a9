"""Writes of the block editor: a design saved into a campaign or a template, uploaded images.

The design is normalised and compiled here, then handed to the campaign and template services
that every other path uses: merge tags, the editable state and the MJML rendering are checked
there, the same as for HTML typed by hand. The send pipeline reads `html` and never knows the
design existed.
"""

import io
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from accounts.errors import ServiceError
from accounts.models import Account
from campaigns import services
from campaigns.editor.compiler import design_to_html, design_to_mjml
from campaigns.editor.design import DesignInvalid, design_normalise
from campaigns.gallery import MjmlError
from campaigns.models import EmailCampaign, EmailTemplate, SavedSection

# Fields of a block that end up in the email as text or URL, where a merge tag may be.
PERSONALISED_FIELDS = ("html", "label", "href", "alt", "empty_text", "total_label")
MAX_SAVED_SECTIONS = 50
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # decompression bombs: refused before decoding
IMAGE_MAX_WIDTH = 1200  # twice the email's width: sharp on high-density screens
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "png", "WEBP": "png"}
IMAGE_DIR = "editor"


@dataclass(frozen=True)
class SavedDesign:
    design: dict
    html: str
    warnings: list[str]


def _check_design_merge_tags(account: Account, design: dict) -> None:
    """Unknown or malformed merge tags, named by the block that holds them."""
    texts = {}
    for s, section in enumerate(design["sections"]):
        for c, column in enumerate(section["columns"]):
            for b, block in enumerate(column["blocks"]):
                path = f"sections[{s}].columns[{c}].blocks[{b}]"
                values = [block.get(name) for name in PERSONALISED_FIELDS if block.get(name)]
                values += [item["href"] for item in block.get("items", [])]
                texts.update({(path, i): text for i, text in enumerate(values)})
    errors = {}
    for (path, _index), problems in services.merge_tag_problems(account, texts).items():
        errors[path] = f"{errors[path]}; {problems}" if path in errors else problems
    if errors:
        raise DesignInvalid(errors)


def compile_design(design: dict, *, title: str) -> str:
    """The design's HTML; a raw HTML block mrml cannot read is a DesignInvalid naming its
    path (a 400), not an error of the server."""
    try:
        return design_to_html(design, title=title)
    except MjmlError as error:
        errors = {}
        for s, section in enumerate(design["sections"]):
            for c, column in enumerate(section["columns"]):
                for b, block in enumerate(column["blocks"]):
                    if block["type"] != "html":
                        continue
                    alone = {
                        **design,
                        "sections": [{**section, "columns": [{**column, "blocks": [block]}]}],
                    }
                    try:
                        design_to_html(alone)
                    except MjmlError as problem:
                        errors[f"sections[{s}].columns[{c}].blocks[{b}].html"] = _(
                            "This HTML cannot be read: %(error)s"
                        ) % {"error": problem}
        raise DesignInvalid(
            errors or {"design": _("The design does not compile: %(error)s") % {"error": error}}
        ) from error


def _warnings(html: str) -> list[str]:
    if "unsubscribe_url" not in html:
        return [_("The email has no unsubscribe link {{ unsubscribe_url }}: it cannot be sent.")]
    return []


@transaction.atomic
def campaign_design_save(*, campaign: EmailCampaign, design: object) -> SavedDesign:
    """The design becomes the campaign's content (compiled HTML) and is kept for the editor."""
    clean = design_normalise(design)
    _check_design_merge_tags(campaign.account, clean)
    html = compile_design(clean, title=campaign.subject or campaign.name)
    campaign.design = clean
    services.campaign_update(campaign=campaign, data={"html": html})
    return SavedDesign(design=clean, html=html, warnings=_warnings(html))


@transaction.atomic
def template_design_save(
    *, account: Account, name: str, design: object, template: EmailTemplate | None = None
) -> tuple[EmailTemplate, SavedDesign]:
    """The design as one of the account's MJML templates (new unless `template` is given)."""
    name = (name or "").strip()[:200]
    if not name:
        raise ServiceError({"name": _("Give the template a name.")})
    clean = design_normalise(design)
    _check_design_merge_tags(account, clean)
    compile_design(clean, title=name)
    template = services.template_save(
        account=account,
        name=name,
        source=design_to_mjml(clean, title=name),
        kind=EmailTemplate.Kind.MJML,
        template=template,
    )
    template.design = clean
    template.save(update_fields=["design"])
    return template, SavedDesign(
        design=clean, html=template.html, warnings=_warnings(template.html)
    )


def image_url(name: str) -> str:
    """The address an email can show the stored image from: the storage's own when it has
    one (S3 via django-storages), else this site's image view."""
    url = default_storage.url(name) if settings.MEDIA_URL else ""
    if url.startswith(("http://", "https://")):
        return url
    return settings.PUBLIC_BASE_URL + reverse("campaigns:editor_image", args=[name])


def image_upload(*, account: Account, upload) -> str:
    """Store an image for the account's emails, checked and resized; its public URL."""
    if upload.size > MAX_IMAGE_BYTES:
        raise ServiceError(
            {"image": _("The image is larger than %(n)d MB.") % {"n": MAX_IMAGE_BYTES // 2**20}},
            code="image_too_large",
        )
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            width, height = probe.size
            if image_format not in IMAGE_FORMATS or width * height > MAX_IMAGE_PIXELS:
                raise ServiceError(
                    {"image": _("Send a JPEG, PNG, GIF or WebP image.")}, code="image_type"
                )
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise ServiceError(
            {"image": _("Send a JPEG, PNG, GIF or WebP image.")}, code="image_type"
        ) from error
    if image.width > IMAGE_MAX_WIDTH:
        image.thumbnail((IMAGE_MAX_WIDTH, IMAGE_MAX_WIDTH * 10), Image.Resampling.LANCZOS)
    extension = IMAGE_FORMATS[image_format]
    output = io.BytesIO()
    # Re-encoding drops whatever rode along in the file (metadata, trailing bytes).
    if extension == "jpg":
        image.convert("RGB").save(output, "JPEG", quality=85, optimize=True)
    else:
        has_alpha = image.mode in {"RGBA", "LA", "P"}
        image.convert("RGBA" if has_alpha else "RGB").save(output, "PNG", optimize=True)
    name = default_storage.save(
        f"{IMAGE_DIR}/{account.pk}/{uuid.uuid4().hex}.{extension}", ContentFile(output.getvalue())
    )
    return image_url(name)


@transaction.atomic
def saved_section_create(*, account: Account, name: str, section: object) -> SavedSection:
    """A section kept for reuse (a header, a footer), checked like any design."""
    name = (name or "").strip()[:100] if isinstance(name, str) else ""
    if not name:
        raise ServiceError({"name": _("Give the block a name.")})
    # Locked in the account's row order so two saves at once cannot both pass the limit.
    Account.objects.select_for_update().filter(pk=account.pk).first()
    if SavedSection.objects.filter(account=account).count() >= MAX_SAVED_SECTIONS:
        raise ServiceError(
            {
                "name": _("At most %(n)d saved blocks: delete one first.")
                % {"n": MAX_SAVED_SECTIONS}
            },
            code="too_many_saved_sections",
        )
    clean = design_normalise({"sections": [section]})
    _check_design_merge_tags(account, clean)
    return SavedSection.objects.create(account=account, name=name, section=clean["sections"][0])


def saved_section_delete(*, saved: SavedSection) -> None:
    saved.delete()
