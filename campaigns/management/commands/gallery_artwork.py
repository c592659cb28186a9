"""Draw the gallery templates' illustrations and social icons into static/emails/.

The starter templates need pictures that the platform serves itself (no hot-linking to a stock
site, no images.example.com that answers nothing): simple flat illustrations drawn here, from
code, so they carry no third-party licence and can be drawn again at any size. Run it after
changing a picture below, then `manage.py gallery_thumbnails`, and commit both.
"""

import math
import random
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

OUTPUT = Path(settings.BASE_DIR) / "static" / "emails"

# name: (width, height, motif, palette: background top, background bottom, accent, detail)
PICTURES = {
    "association-invitation-hero": (
        1200,
        600,
        "confetti",
        ("#ffd7a8", "#ff9f6b", "#2a9d8f", "#264653"),
    ),
    "association-remerciement-hero": (
        1200,
        600,
        "hills",
        ("#cfe8d5", "#7fb89a", "#2d6a4f", "#f4a261"),
    ),
    "b2b-invitation-hero": (1200, 600, "stage", ("#10213f", "#1e3a8a", "#60a5fa", "#f8fafc")),
    "b2b-newsletter-banner": (1200, 500, "chart", ("#e6f4f1", "#c9e7e3", "#0e7c86", "#f59e0b")),
    "b2b-article-webinaire": (560, 360, "screen", ("#dbeafe", "#bfdbfe", "#0e7c86", "#1f2937")),
    "b2b-article-cas-client": (560, 360, "chart", ("#f1f5f9", "#e2e8f0", "#0e7c86", "#f97316")),
    "commerce-bienvenue-hero": (
        1200,
        600,
        "shopfront",
        ("#fff1e6", "#ffd6c2", "#ff5a4e", "#3d405b"),
    ),
    "commerce-promotion-hero": (1200, 640, "bags", ("#ffe5e0", "#ffb4a8", "#ff5a4e", "#1d3557")),
    "commerce-produit-1": (400, 400, "bag", ("#f8f1ea", "#efe2d5", "#a0522d", "#5c3317")),
    "commerce-produit-2": (400, 400, "sneaker", ("#eef2f5", "#dfe6ec", "#ffffff", "#9aa5b1")),
    "commerce-produit-3": (400, 400, "watch", ("#f3f0ea", "#e6dfd3", "#2b2d42", "#d4a373")),
    "feminin-anniversaire-cadeau": (
        1200,
        600,
        "gift",
        ("#fde2e4", "#fad2e1", "#c9184a", "#ffd166"),
    ),
    "feminin-anniversaire-bouquet": (
        560,
        420,
        "flowers",
        ("#fff0f3", "#ffe5ec", "#ff8fab", "#52796f"),
    ),
    "feminin-newsletter-hero": (1200, 600, "flowers", ("#fdf0e7", "#f8d9c4", "#e07a5f", "#81b29a")),
    "feminin-article-rituel": (560, 380, "bottles", ("#f6eee3", "#eadbc8", "#b5838d", "#6d6875")),
    "feminin-article-rencontre": (
        560,
        380,
        "portrait",
        ("#e9edc9", "#ccd5ae", "#6b705c", "#fefae0"),
    ),
    "tourisme-promotion-hero": (1200, 640, "sunset", ("#ffcf99", "#ff8c69", "#3f8f9a", "#fff3b0")),
    "tourisme-destination-biarritz": (
        560,
        380,
        "waves",
        ("#bde0fe", "#a2d2ff", "#0a6e7d", "#fefae0"),
    ),
    "tourisme-destination-saint-malo": (
        560,
        380,
        "ramparts",
        ("#cddafd", "#dfe7fd", "#0a6e7d", "#8d99ae"),
    ),
    "tourisme-remerciement-hero": (
        1200,
        600,
        "sunset",
        ("#f9c74f", "#f08a4b", "#277da1", "#fff3b0"),
    ),
}
SOCIAL = {"facebook": "#1877f2", "instagram": "#c13584", "linkedin": "#0a66c2"}


class Command(BaseCommand):
    help = "Draw the gallery's illustrations and social icons into static/emails/ (needs Pillow)."

    def handle(self, *args, **options):
        from PIL import Image, ImageDraw  # a build-time tool (dev extra), not a runtime one

        (OUTPUT / "gallery").mkdir(parents=True, exist_ok=True)
        (OUTPUT / "social").mkdir(parents=True, exist_ok=True)
        for name, (width, height, motif, palette) in PICTURES.items():
            image = Image.new("RGB", (width, height))
            draw = ImageDraw.Draw(image)
            _gradient(draw, width, height, palette[0], palette[1])
            MOTIFS[motif](draw, width, height, palette, random.Random(name))
            image.save(OUTPUT / "gallery" / f"{name}.jpg", quality=82, optimize=True)
        for name, colour in SOCIAL.items():
            icon = Image.new("RGBA", (96, 96), (0, 0, 0, 0))
            SOCIAL_GLYPHS[name](ImageDraw.Draw(icon), colour)
            icon.save(OUTPUT / "social" / f"{name}.png", optimize=True)
        self.stdout.write(f"{len(PICTURES)} pictures and {len(SOCIAL)} icons in {OUTPUT}")


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def _mix(a: str, b: str, t: float) -> tuple[int, int, int]:
    ra, rb = _rgb(a), _rgb(b)
    return tuple(round(x + (y - x) * t) for x, y in zip(ra, rb, strict=True))


def _gradient(draw, width, height, top, bottom):
    for y in range(height):
        draw.line([(0, y), (width, y)], fill=_mix(top, bottom, y / max(height - 1, 1)))


def _sunset(draw, w, h, p, rng):
    draw.ellipse([w * 0.58, h * 0.18, w * 0.58 + h * 0.42, h * 0.6], fill=_rgb(p[3]))
    for band in range(6):
        y = h * (0.55 + band * 0.075)
        points = [(x, y + math.sin(x / (w / 9) + band) * h * 0.02) for x in range(0, w + 20, 20)]
        draw.polygon([*points, (w, h), (0, h)], fill=_mix(p[2], "#0b3c49", band / 6))


def _waves(draw, w, h, p, rng):
    _sunset(draw, w, h, (p[0], p[1], p[2], p[3]), rng)
    draw.rectangle([0, h * 0.86, w, h], fill=_rgb("#f2d9a0"))


def _ramparts(draw, w, h, p, rng):
    draw.rectangle([0, h * 0.7, w, h], fill=_rgb(p[2]))
    base = h * 0.72
    draw.rectangle([w * 0.05, h * 0.38, w * 0.95, base], fill=_rgb(p[3]))
    for x in range(int(w * 0.05), int(w * 0.95), 28):
        draw.rectangle([x, h * 0.33, x + 16, h * 0.38], fill=_rgb(p[3]))
    draw.rectangle([w * 0.62, h * 0.16, w * 0.7, h * 0.4], fill=_mix(p[3], "#000000", 0.2))
    draw.polygon(
        [(w * 0.6, h * 0.16), (w * 0.66, h * 0.05), (w * 0.72, h * 0.16)], fill=_rgb("#5c677d")
    )


def _hills(draw, w, h, p, rng):
    draw.ellipse([w * 0.08, h * 0.1, w * 0.08 + h * 0.22, h * 0.32], fill=_rgb(p[3]))
    for layer in range(3):
        top = h * (0.45 + layer * 0.15)
        points = [
            (x, top + math.sin(x / (w / (3 + layer)) + layer * 2) * h * 0.06)
            for x in range(0, w + 20, 20)
        ]
        draw.polygon([*points, (w, h), (0, h)], fill=_mix(p[2], p[1], 0.45 - layer * 0.2))
    for _person in range(7):
        x, y = rng.uniform(w * 0.2, w * 0.85), h * rng.uniform(0.72, 0.8)
        draw.ellipse([x - 10, y - 48, x + 10, y - 28], fill=_rgb(p[3]))
        draw.rounded_rectangle([x - 14, y - 26, x + 14, y + 18], 8, fill=_rgb("#1b4332"))


def _confetti(draw, w, h, p, rng):
    colours = [p[2], p[3], "#e9c46a", "#f4a261", "#ffffff"]
    for _piece in range(160):
        x, y, size = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(6, 16)
        draw.rectangle([x, y, x + size, y + size * 0.5], fill=_rgb(rng.choice(colours)))
    for index in range(5):
        x = w * (0.15 + index * 0.17)
        draw.line([(x, 0), (x + 20, h * 0.3)], fill=_rgb(p[3]), width=3)
        draw.ellipse([x - 30, h * 0.3, x + 70, h * 0.52], fill=_rgb(colours[index % 4]))


def _stage(draw, w, h, p, rng):
    for _dot in range(90):
        x, y = rng.uniform(0, w), rng.uniform(0, h * 0.6)
        draw.ellipse([x, y, x + 3, y + 3], fill=_rgb(p[2]))
    for index in range(4):
        x = w * (0.2 + index * 0.2)
        draw.polygon(
            [(x, 0), (x - 120, h * 0.75), (x + 120, h * 0.75)], fill=_mix(p[1], p[2], 0.25)
        )
    draw.rectangle([0, h * 0.75, w, h], fill=_mix(p[0], "#000000", 0.3))
    draw.rounded_rectangle([w * 0.35, h * 0.42, w * 0.65, h * 0.75], 12, fill=_rgb(p[3]))
    draw.rectangle([w * 0.37, h * 0.46, w * 0.63, h * 0.5], fill=_rgb(p[2]))


def _chart(draw, w, h, p, rng):
    bars = 7
    for index in range(bars):
        x = w * 0.1 + index * w * 0.8 / bars
        top = h * (0.75 - 0.08 * index - rng.uniform(0, 0.08))
        draw.rounded_rectangle([x, top, x + w * 0.07, h * 0.85], 6, fill=_rgb(p[2]))
    points = [(w * 0.12 + i * w * 0.8 / bars, h * (0.6 - 0.06 * i)) for i in range(bars)]
    draw.line(points, fill=_rgb(p[3]), width=max(4, w // 150))
    for x, y in points:
        draw.ellipse([x - 7, y - 7, x + 7, y + 7], fill=_rgb(p[3]))


def _screen(draw, w, h, p, rng):
    draw.rounded_rectangle([w * 0.12, h * 0.12, w * 0.88, h * 0.78], 14, fill=_rgb(p[3]))
    draw.rectangle([w * 0.15, h * 0.17, w * 0.85, h * 0.72], fill=_rgb("#ffffff"))
    for row in range(2):
        for col in range(3):
            x, y = w * (0.19 + col * 0.22), h * (0.22 + row * 0.25)
            draw.rounded_rectangle(
                [x, y, x + w * 0.19, y + h * 0.21], 8, fill=_mix(p[0], p[2], 0.3 + 0.1 * col)
            )
            draw.ellipse([x + w * 0.07, y + h * 0.04, x + w * 0.12, y + h * 0.11], fill=_rgb(p[2]))
    draw.rectangle([w * 0.45, h * 0.78, w * 0.55, h * 0.86], fill=_rgb(p[3]))


def _shopfront(draw, w, h, p, rng):
    draw.rectangle([w * 0.2, h * 0.3, w * 0.8, h * 0.95], fill=_rgb("#ffffff"))
    for index in range(8):
        colour = p[2] if index % 2 == 0 else "#ffffff"
        x = w * 0.18 + index * w * 0.08
        draw.polygon(
            [(x, h * 0.2), (x + w * 0.08, h * 0.2), (x + w * 0.08, h * 0.34), (x, h * 0.34)],
            fill=_rgb(colour),
        )
    draw.rectangle([w * 0.26, h * 0.45, w * 0.5, h * 0.85], fill=_mix(p[0], "#9ad1d4", 0.6))
    draw.rectangle([w * 0.56, h * 0.45, w * 0.72, h * 0.95], fill=_rgb(p[3]))
    draw.ellipse([w * 0.69, h * 0.68, w * 0.705, h * 0.7], fill=_rgb("#ffd166"))


def _bag(draw, w, h, p, rng, x0=0.2, y0=0.32, scale=0.6, colour=None):
    colour = colour or p[2]
    left, top, right, bottom = w * x0, h * y0, w * (x0 + scale), h * (y0 + scale * 0.95)
    draw.arc(
        [
            left + (right - left) * 0.25,
            top - h * 0.18 * scale / 0.6,
            right - (right - left) * 0.25,
            top + h * 0.12 * scale / 0.6,
        ],
        180,
        360,
        fill=_rgb(p[3]),
        width=max(4, int(w * 0.02)),
    )
    draw.rounded_rectangle([left, top, right, bottom], int(w * 0.03), fill=_rgb(colour))
    draw.rectangle(
        [left, top + (bottom - top) * 0.18, right, top + (bottom - top) * 0.24], fill=_rgb(p[3])
    )


def _bags(draw, w, h, p, rng):
    for index, colour in enumerate([p[2], p[3], "#f4a261"]):
        _bag(
            draw,
            w,
            h,
            p,
            rng,
            x0=0.12 + index * 0.27,
            y0=0.3 + 0.05 * (index % 2),
            scale=0.22,
            colour=colour,
        )
    draw.rectangle([0, h * 0.86, w, h], fill=_mix(p[1], "#000000", 0.1))


def _sneaker(draw, w, h, p, rng):
    draw.ellipse([w * 0.12, h * 0.72, w * 0.9, h * 0.8], fill=_mix(p[1], "#000000", 0.12))
    draw.polygon(
        [
            (w * 0.15, h * 0.68),
            (w * 0.2, h * 0.42),
            (w * 0.42, h * 0.4),
            (w * 0.6, h * 0.55),
            (w * 0.86, h * 0.6),
            (w * 0.88, h * 0.7),
        ],
        fill=_rgb(p[2]),
        outline=_rgb(p[3]),
        width=3,
    )
    draw.rectangle([w * 0.14, h * 0.68, w * 0.89, h * 0.74], fill=_rgb(p[3]))
    for index in range(4):
        x = w * (0.34 + index * 0.05)
        draw.line(
            [(x, h * 0.45 + index * 4), (x + w * 0.04, h * 0.5 + index * 4)],
            fill=_rgb(p[3]),
            width=3,
        )


def _watch(draw, w, h, p, rng):
    draw.rounded_rectangle([w * 0.42, h * 0.05, w * 0.58, h * 0.95], 14, fill=_rgb(p[3]))
    draw.ellipse([w * 0.25, h * 0.25, w * 0.75, h * 0.75], fill=_rgb(p[2]))
    draw.ellipse([w * 0.29, h * 0.29, w * 0.71, h * 0.71], fill=_rgb("#fdfcf8"))
    centre = (w * 0.5, h * 0.5)
    draw.line([centre, (w * 0.5, h * 0.36)], fill=_rgb(p[2]), width=6)
    draw.line([centre, (w * 0.6, h * 0.55)], fill=_rgb(p[2]), width=4)


def _gift(draw, w, h, p, rng):
    _confetti(draw, w, h, (p[0], p[1], "#ffffff", p[3]), rng)
    box = [w * 0.36, h * 0.38, w * 0.64, h * 0.9]
    draw.rectangle(box, fill=_rgb(p[2]))
    draw.rectangle([w * 0.34, h * 0.3, w * 0.66, h * 0.4], fill=_mix(p[2], "#000000", 0.15))
    draw.rectangle([w * 0.48, h * 0.3, w * 0.52, h * 0.9], fill=_rgb(p[3]))
    draw.ellipse([w * 0.42, h * 0.18, w * 0.5, h * 0.31], outline=_rgb(p[3]), width=10)
    draw.ellipse([w * 0.5, h * 0.18, w * 0.58, h * 0.31], outline=_rgb(p[3]), width=10)


def _flowers(draw, w, h, p, rng):
    for _stem in range(9):
        x = rng.uniform(w * 0.25, w * 0.75)
        top = h * rng.uniform(0.2, 0.45)
        draw.line([(w * 0.5, h * 0.95), (x, top)], fill=_rgb(p[3]), width=max(3, w // 200))
        radius = min(w, h) * rng.uniform(0.06, 0.1)
        for petal in range(6):
            angle = petal * math.pi / 3
            px, py = x + math.cos(angle) * radius * 0.7, top + math.sin(angle) * radius * 0.7
            draw.ellipse(
                [px - radius * 0.6, py - radius * 0.6, px + radius * 0.6, py + radius * 0.6],
                fill=_mix(p[2], "#ffffff", rng.uniform(0, 0.4)),
            )
        draw.ellipse(
            [x - radius * 0.35, top - radius * 0.35, x + radius * 0.35, top + radius * 0.35],
            fill=_rgb("#ffd166"),
        )


def _bottles(draw, w, h, p, rng):
    draw.rectangle([0, h * 0.78, w, h], fill=_mix(p[1], "#000000", 0.08))
    for index, (height, colour) in enumerate([(0.5, p[2]), (0.38, p[3]), (0.3, "#e5989b")]):
        left = w * (0.22 + index * 0.2)
        top = h * (0.78 - height)
        draw.rounded_rectangle([left, top, left + w * 0.14, h * 0.8], 10, fill=_rgb(colour))
        draw.rectangle([left + w * 0.04, top - h * 0.08, left + w * 0.1, top], fill=_rgb("#2b2d42"))


def _portrait(draw, w, h, p, rng):
    draw.ellipse([w * 0.36, h * 0.14, w * 0.64, h * 0.56], fill=_rgb("#e0b899"))
    draw.pieslice([w * 0.33, h * 0.08, w * 0.67, h * 0.5], 180, 360, fill=_rgb("#3d2c29"))
    draw.rounded_rectangle([w * 0.22, h * 0.58, w * 0.78, h * 1.1], 60, fill=_rgb(p[2]))
    draw.rectangle([w * 0.08, h * 0.2, w * 0.16, h * 0.9], fill=_rgb(p[3]))


MOTIFS = {
    "sunset": _sunset, "waves": _waves, "ramparts": _ramparts, "hills": _hills,
    "confetti": _confetti, "stage": _stage, "chart": _chart, "screen": _screen,
    "shopfront": _shopfront, "bags": _bags, "bag": _bag, "sneaker": _sneaker, "watch": _watch,
    "gift": _gift, "flowers": _flowers, "bottles": _bottles, "portrait": _portrait,
}  # fmt: skip


def _facebook(draw, colour):
    draw.ellipse([0, 0, 95, 95], fill=colour)
    draw.rectangle([44, 30, 56, 80], fill="white")
    draw.rectangle([36, 46, 64, 56], fill="white")
    draw.pieslice([44, 18, 72, 46], 180, 270, fill="white")
    draw.rectangle([56, 18, 66, 28], fill="white")


def _instagram(draw, colour):
    draw.ellipse([0, 0, 95, 95], fill=colour)
    draw.rounded_rectangle([24, 24, 72, 72], 14, outline="white", width=6)
    draw.ellipse([37, 37, 59, 59], outline="white", width=6)
    draw.ellipse([61, 29, 67, 35], fill="white")


def _linkedin(draw, colour):
    draw.ellipse([0, 0, 95, 95], fill=colour)
    draw.rectangle([28, 40, 38, 70], fill="white")
    draw.ellipse([27, 24, 39, 36], fill="white")
    draw.rectangle([45, 40, 55, 70], fill="white")
    draw.pieslice([45, 38, 72, 62], 180, 360, fill="white")
    draw.rectangle([62, 50, 72, 70], fill="white")


SOCIAL_GLYPHS = {"facebook": _facebook, "instagram": _instagram, "linkedin": _linkedin}
