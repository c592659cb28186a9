"""Tracked links and the open pixel in a campaign's HTML (DESIGN §6).

Made here, by the channel that renders the message; stats only reads the link table (click
redirects, reports) and counts clicks in it.

The campaign's HTML is scanned once per batch: every trackable `href` becomes a placeholder and
its target (with the campaign's UTM parameters) a numbered `CampaignLink`. Each message then only
swaps placeholders for its own signed URLs, which is a single regular-expression pass.
"""

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from campaigns import merge_tags
from campaigns.models import CampaignLink
from campaigns.tokens import click_token, open_token

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# A merge tag's default may hold the attribute's own quote once premailer has re-quoted it
# (`href="…?v={{ city | default:"Paris" }}"`): a tag is read whole, not cut at that quote.
HREF = re.compile(
    r"(<a\b[^>]*?\bhref\s*=\s*)([\"'])((?:\{\{.*?\}\}|(?!\2).)*?)\2", re.IGNORECASE | re.DOTALL
)
LINK_PLACEHOLDER = re.compile(r"SENDETHICLINK(\d+)X")
PIXEL_PLACEHOLDER = "SENDETHICPIXELX"
PIXEL_TAG = (
    f'<img src="{PIXEL_PLACEHOLDER}" width="1" height="1" alt="" '
    'style="display:block;border:0;width:1px;height:1px;overflow:hidden">'
)
# Only web links are tracked: mailto:, tel:, anchors and links that are a merge tag (the
# unsubscribe and "view in browser" links) are left as written.
TRACKABLE = re.compile(r"^https?://[^\s{}]+$", re.IGNORECASE)
# A web link personalised after its host (`https://shop.example/promo?ref={{ contact_ref }}`):
# tracked too, its template stored; the click redirect fills it in for the recipient. Scheme and
# host must be written out, so that the redirect can only go where the campaign said.
TEMPLATED_START = re.compile(r"^https?://[^\s{}/?#]+[/?#]", re.IGNORECASE)


def clean_utm(value) -> dict[str, str]:
    """A campaign's UTM parameters: only the five standard keys, short plain strings."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValueError(_('Give the UTM parameters as an object, e.g. {"utm_source": "news"}.'))
    cleaned = {}
    for key, item in value.items():
        if key not in UTM_KEYS:
            raise ValueError(
                _("Unknown UTM parameter %(key)s (allowed: %(keys)s).")
                % {"key": key, "keys": ", ".join(UTM_KEYS)}
            )
        if not isinstance(item, str) or len(item) > 200 or "\x00" in item:
            raise ValueError(_("%(key)s must be text of at most 200 characters.") % {"key": key})
        if item.strip():
            cleaned[key] = item.strip()
    return cleaned


@dataclass(frozen=True)
class TrackedHtml:
    html: str
    urls: tuple[str, ...]


def with_utm(url: str, utm: dict[str, str]) -> str:
    """`url` with the campaign's UTM parameters added (parameters already in the link win)."""
    if not utm:
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key for key, _value in query}
    query += [(key, value) for key, value in utm.items() if key not in present and value]
    return urlunsplit(parts._replace(query=urlencode(query)))


def track(source_html: str, *, utm: dict[str, str], clicks: bool, opens: bool) -> TrackedHtml:
    """Placeholders for tracked links (and the pixel); UTM parameters on every web link."""
    urls: list[str] = []
    index_of: dict[str, int] = {}

    def rewrite(match: re.Match) -> str:
        prefix, quote, raw = match.groups()
        url = html.unescape(raw).strip()
        if TRACKABLE.match(url):
            url = with_utm(url, utm)
        elif is_personalised_link(url):
            # urlencode() would mangle the tags: they wait behind placeholders meanwhile.
            protected = merge_tags.Protected(url)
            url = protected.restore(with_utm(protected.text, utm))
        else:
            return match.group(0)
        if not clicks:
            return f"{prefix}{quote}{html.escape(url, quote=True)}{quote}"
        if url not in index_of:  # the same target twice is one link of the report
            index_of[url] = len(urls)
            urls.append(url)
        return f"{prefix}{quote}SENDETHICLINK{index_of[url]}X{quote}"

    rewritten = HREF.sub(rewrite, source_html)
    if opens and rewritten:
        closing = rewritten.lower().rfind("</body>")
        if closing == -1:
            rewritten += PIXEL_TAG
        else:
            rewritten = rewritten[:closing] + PIXEL_TAG + rewritten[closing:]
    return TrackedHtml(html=rewritten, urls=tuple(urls))


def is_templated(url: str) -> bool:
    return merge_tags.TAG.search(url) is not None


def is_personalised_link(url: str) -> bool:
    """A web link with merge tags after a written-out scheme and host, and nothing else odd."""
    return (
        is_templated(url)
        and TEMPLATED_START.match(url) is not None
        and TRACKABLE.match(merge_tags.TAG.sub("x", url)) is not None
    )


def fill_in(template: str, values: dict[str, str]) -> str | None:
    """A personalised link's target for one recipient: each value percent-encoded whole (it can
    add no `/`, `?`, `#` or `&` of its own), and the result refused (None) unless it keeps the
    template's scheme and host, so a click never leaves for a host the campaign did not name."""
    target = merge_tags.TAG.sub(
        lambda match: quote(
            values.get(match.group("name")) or match.group("default") or "", safe=""
        ),
        template,
    )
    stored = urlsplit(merge_tags.TAG.sub("", template))
    filled = urlsplit(target)
    if not TRACKABLE.match(target) or (filled.scheme, filled.netloc) != (
        stored.scheme,
        stored.netloc,
    ):
        return None
    return target


def store_links(campaign_id: int, urls: tuple[str, ...]) -> None:
    """The campaign's link table; idempotent (content is frozen once the campaign started)."""
    CampaignLink.objects.bulk_create(
        [CampaignLink(campaign_id=campaign_id, index=i, url=url) for i, url in enumerate(urls)],
        ignore_conflicts=True,
    )


def personalise(
    text: str,
    *,
    campaign_id: int,
    message_id: int | None,
    urls,
    escape: bool = True,
    values: dict[str, str] | None = None,
) -> str:
    """Swap the placeholders for this message's signed URLs. A preview or test send (no saved
    message) gets the plain targets, personalised ones filled in with `values`, and no pixel."""
    base = settings.PUBLIC_BASE_URL
    if not message_id:
        text = text.replace(PIXEL_TAG, "")

        def target(match: re.Match) -> str:
            url = urls[int(match.group(1))]
            if is_templated(url):
                url = fill_in(url, values or {}) or ""
            return html.escape(url, quote=True) if escape else url

        return LINK_PLACEHOLDER.sub(target, text)
    click_prefix = base + url_around_token("tracking:click")[0]
    text = LINK_PLACEHOLDER.sub(
        lambda m: click_prefix + click_token(campaign_id, message_id, int(m.group(1))), text
    )
    if PIXEL_PLACEHOLDER in text:
        before, after = url_around_token("tracking:open")
        text = text.replace(
            PIXEL_PLACEHOLDER, base + before + open_token(campaign_id, message_id) + after
        )
    return text


@lru_cache(maxsize=16)
def url_around_token(name: str) -> tuple[str, str]:
    """The path of a one-token URL split around its token, once: reverse() for every link of
    every message was a tenth of the send pipeline's time."""
    before, _token, after = reverse(name, args=["TOKEN"]).partition("TOKEN")
    return before, after
