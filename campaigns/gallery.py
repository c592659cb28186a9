"""Starter templates: responsive MJML emails, chosen by universe × objective.

Each template is one file, `templates/emails/gallery/<universe>-<objective>.mjml`, written with the
project's merge tags only. Rendering MJML never touches the network: no remote fonts, and
`<mj-include>` is refused whatever it points to.

Pictures and social icons are the platform's own files (`static/emails/`, drawn by
`manage.py gallery_artwork`): a source names them `[[static]]/emails/…`, and the address the
recipients' mail clients will fetch them from (PUBLIC_BASE_URL + STATIC_URL) is put in when the
source is read. Thumbnails of each template (`manage.py gallery_thumbnails`) are in
`static/emails/thumbnails/`.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import mrml
from django.conf import settings

logger = logging.getLogger(__name__)

GALLERY_DIR = Path(__file__).resolve().parent.parent / "templates" / "emails" / "gallery"
STATIC_PLACEHOLDER = "[[static]]"

UNIVERSES: dict[str, str] = {
    "feminin": "Féminin",
    "b2b": "B to B",
    "tourisme": "Tourisme",
    "commerce": "Commerce",
    "association": "Association",
}

OBJECTIVES: dict[str, str] = {
    "newsletter": "Newsletter",
    "remerciement": "Remerciement",
    "invitation": "Invitation",
    "promotion": "Promotion",
    "bienvenue": "Bienvenue",
    "anniversaire": "Anniversaire",
}

# slug -> (universe, objective, description); the slug is also the file name.
_TEMPLATES: dict[str, tuple[str, str, str]] = {
    "feminin-newsletter": (
        "feminin",
        "newsletter",
        "Un journal éditorial tout en douceur, avec un édito, deux articles et une citation.",
    ),
    "feminin-anniversaire": (
        "feminin",
        "anniversaire",
        "Des vœux d'anniversaire élégants avec un cadeau à découvrir en boutique ou en ligne.",
    ),
    "b2b-newsletter": (
        "b2b",
        "newsletter",
        "Une lettre professionnelle avec un dossier à la une, des chiffres clés et deux articles.",
    ),
    "b2b-invitation": (
        "b2b",
        "invitation",
        "Une invitation à un événement professionnel avec date, lieu, programme et inscription.",
    ),
    "tourisme-remerciement": (
        "tourisme",
        "remerciement",
        "Un remerciement après séjour qui invite à laisser un avis et à revenir.",
    ),
    "tourisme-promotion": (
        "tourisme",
        "promotion",
        "Des offres de dernière minute mises en scène autour de deux destinations.",
    ),
    "commerce-promotion": (
        "commerce",
        "promotion",
        "Une vente privée percutante avec remise, mise en avant de produits et appel à l'achat.",
    ),
    "commerce-bienvenue": (
        "commerce",
        "bienvenue",
        "Un message de bienvenue pour les nouveaux abonnés avec un code de réduction.",
    ),
    "association-remerciement": (
        "association",
        "remerciement",
        "Un merci sincère aux donateurs qui montre l'impact concret de leur don.",
    ),
    "association-invitation": (
        "association",
        "invitation",
        "Une invitation conviviale à la fête de l'association avec programme et lieu.",
    ),
}


class MjmlError(ValueError):
    """The MJML source cannot be parsed; the message is the parser's."""


@dataclass(frozen=True)
class GalleryTemplate:
    slug: str
    universe: str
    objective: str
    name: str
    description: str

    @property
    def thumbnail(self) -> str:
        """Its thumbnail's path under static/ (drawn by `manage.py gallery_thumbnails`)."""
        return f"emails/thumbnails/{self.slug}.jpg"


def gallery() -> list[GalleryTemplate]:
    """Every starter template, in the order of UNIVERSES, then of OBJECTIVES."""
    universe_rank = {key: rank for rank, key in enumerate(UNIVERSES)}
    objective_rank = {key: rank for rank, key in enumerate(OBJECTIVES)}
    templates = [
        GalleryTemplate(
            slug=slug,
            universe=universe,
            objective=objective,
            name=f"{OBJECTIVES[objective]} — {UNIVERSES[universe]}",
            description=description,
        )
        for slug, (universe, objective, description) in _TEMPLATES.items()
    ]
    return sorted(templates, key=lambda t: (universe_rank[t.universe], objective_rank[t.objective]))


def gallery_template(slug: str) -> GalleryTemplate:
    """The template called `slug`; KeyError if there is none."""
    for template in gallery():
        if template.slug == slug:
            return template
    raise KeyError(slug)


def static_base_url() -> str:
    """Where mail clients fetch the platform's static files: an absolute address."""
    static_url = settings.STATIC_URL
    if static_url.startswith(("http://", "https://")):
        return static_url.rstrip("/")
    return settings.PUBLIC_BASE_URL.rstrip("/") + "/" + static_url.strip("/")


def raw_template_source(slug: str) -> str:
    """The template's file as written (pictures as `[[static]]/…`); KeyError if there is none."""
    # Looking the slug up first means only known file names ever reach the filesystem.
    template = gallery_template(slug)
    return (GALLERY_DIR / f"{template.slug}.mjml").read_text(encoding="utf-8")


def template_source(slug: str, *, static_base: str | None = None) -> str:
    """The MJML source of the template called `slug`, its pictures at `static_base` (default:
    the platform's public static address); KeyError if there is none."""
    base = static_base if static_base is not None else static_base_url()
    return raw_template_source(slug).replace(STATIC_PLACEHOLDER, base)


def render_mjml(source: str) -> str:
    """HTML for an MJML source, rendered offline; MjmlError if the source is invalid."""
    try:
        output = mrml.to_html(
            source,
            parser_options=mrml.ParserOptions(include_loader=mrml.noop_loader()),
            # mrml links Google Fonts for its default fonts unless the font map is empty.
            render_options=mrml.RenderOptions(fonts={}),
        )
    except OSError as error:  # mrml reports every parse error as an OSError
        raise MjmlError(str(error)) from error
    for warning in output.warnings:
        logger.warning("MJML %s at characters %s-%s", warning.kind, warning.start, warning.end)
    return output.content
