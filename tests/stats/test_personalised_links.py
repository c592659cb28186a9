"""Links personalised with merge tags (the gallery's main call to action) are tracked: their
template is stored, the click redirect fills it in for the recipient on the stored host only,
and the report counts their clicks."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from campaigns import links, pipeline
from campaigns.gallery import gallery, render_mjml, template_source
from campaigns.merge_tags import CONTACT_TAGS, contact_reference
from campaigns.models import CampaignLink, Message
from campaigns.services import campaign_create, campaign_schedule, campaign_send_test
from contacts.models import Contact
from stats.services.ingest import ingest_pending
from tests.factories import ContactListFactory, ListMembershipFactory, SenderAddressFactory
from tests.stats.test_tracking import OUTLOOK, _wsgi

pytestmark = pytest.mark.django_db

CTA = "https://shop.example.com/ventes-privees?ref={{ contact_ref }}"
HTML = f"""<html><body><p>Bonjour {{{{ first_name }}}}</p>
<a href="{CTA}">J'en profite</a>
<a href='https://shop.example.com/ventes-privees?ville={{{{ city | default:"Paris" }}}}'>Près</a>
<a href="https://shop.example.com/">La boutique</a>
<a href="{{{{ unsubscribe_url }}}}">Se désinscrire</a>
</body></html>"""
UTM = {"utm_source": "sendethic", "utm_campaign": "soldes"}


def test_a_personalised_link_is_tracked_with_its_template_and_the_utm_parameters():
    tracked = links.track(HTML, utm=UTM, clicks=True, opens=False)

    assert tracked.urls == (
        "https://shop.example.com/ventes-privees?ref={{ contact_ref }}&utm_source=sendethic"
        "&utm_campaign=soldes",
        'https://shop.example.com/ventes-privees?ville={{ city | default:"Paris" }}'
        "&utm_source=sendethic&utm_campaign=soldes",
        "https://shop.example.com/?utm_source=sendethic&utm_campaign=soldes",
    )
    assert "{{ contact_ref }}" not in tracked.html  # a placeholder now
    assert '"{{ unsubscribe_url }}"' in tracked.html


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        # values are encoded whole: they add no path, query, fragment or credentials
        ("https://shop.example.com/p?ref={{ email }}", "a@b.fr&x=1#y",
         "https://shop.example.com/p?ref=a%40b.fr%26x%3D1%23y"),
        ("https://shop.example.com/{{ city }}", "//evil.example/x",
         "https://shop.example.com/%2F%2Fevil.example%2Fx"),
        ("https://shop.example.com/p?ref={{ email }}", "", "https://shop.example.com/p?ref="),
        # a template whose host a value could extend is refused, never followed elsewhere
        ("https://shop.example.com{{ email }}", "@evil.example", None),
        ("https://shop.example.com{{ email }}", ":8443", None),
    ],
)  # fmt: skip
def test_filling_in_never_leaves_the_stored_host(template, value, expected):
    assert links.fill_in(template, {"email": value, "city": value}) == expected


@pytest.fixture
def sent(account, smtp_server):
    sender = SenderAddressFactory(account=account, email="news@boutique.fr", name="La Boutique")
    newsletter = ContactListFactory(account=account, name="Newsletter")
    for email, city in (("zoe@example.com", "Lyon"), ("paul@example.com", "")):
        ListMembershipFactory(
            contact_list=newsletter, contact__email=email, contact__city=city,
            contact__email_status="subscribed",
        )  # fmt: skip
    campaign = campaign_create(
        account=account,
        data={"name": "Soldes", "subject": "Soldes", "sender": sender, "html": HTML,
              "lists": [newsletter], "utm_parameters": UTM},
    )  # fmt: skip
    campaign_schedule(campaign=campaign, at=None)
    while pipeline.send_batch(campaign.pk):
        pass
    Message.objects.filter(campaign=campaign).update(sent_at=timezone.now() - timedelta(minutes=1))
    received = {to[0]: message for to, message in smtp_server.messages}
    return campaign, received


def clicks_of(message) -> list[str]:
    html = message.get_body(("html",)).get_content()
    return re.findall(r"""href=["']https?://[^/"']+(/t/c/[^"']+)["']""", html)


def test_a_click_on_the_call_to_action_reaches_the_shop_with_an_opaque_reference(sent):
    # given
    campaign, received = sent
    zoe = Contact.objects.get(email="zoe@example.com")
    cta, near_you, shop = clicks_of(received["zoe@example.com"])
    html = received["zoe@example.com"].get_body(("html",)).get_content()
    # then: no personal data and no raw tag in the mail's links
    assert "zoe%40example.com" not in html and "{{" not in html
    # when
    response = Client(HTTP_USER_AGENT=OUTLOOK).get(cta)
    # then
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.scheme, target.netloc, target.path) == (
        "https", "shop.example.com", "/ventes-privees"
    )  # fmt: skip
    query = parse_qs(target.query)
    assert query["ref"] == [contact_reference(zoe)]
    assert len(query["ref"][0]) == 20 and "zoe" not in query["ref"][0]
    assert query["utm_campaign"] == ["soldes"]
    # the contact's own values, the default when a value is empty
    assert parse_qs(urlsplit(Client().get(near_you)["Location"]).query)["ville"] == ["Lyon"]
    paul_near_you = clicks_of(received["paul@example.com"])[1]
    assert parse_qs(urlsplit(Client().get(paul_near_you)["Location"]).query)["ville"] == ["Paris"]
    # the WSGI layer in front of Django answers the same
    wsgi = _wsgi(cta)
    assert wsgi["status"] == "302 Found"
    assert wsgi["headers"]["Location"] == response["Location"]


def test_the_report_counts_clicks_on_personalised_links(sent):
    # given
    campaign, received = sent
    zoe_cta = clicks_of(received["zoe@example.com"])[0]
    paul_cta = clicks_of(received["paul@example.com"])[0]
    # when
    Client(HTTP_USER_AGENT=OUTLOOK).get(zoe_cta)
    Client(HTTP_USER_AGENT=OUTLOOK).get(zoe_cta)
    Client(HTTP_USER_AGENT=OUTLOOK).get(paul_cta)
    ingest_pending()
    # then: the stored link is the template, with its counters
    link = CampaignLink.objects.get(campaign=campaign, index=0)
    assert link.url.startswith(CTA)
    assert (link.clicks_total, link.clicks_unique) == (3, 2)


def test_an_erased_contacts_link_still_leads_to_the_page(sent):
    # given
    campaign, received = sent
    Contact.objects.filter(email="zoe@example.com").delete()
    # when
    response = Client().get(clicks_of(received["zoe@example.com"])[0])
    # then
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query, keep_blank_values=True)["ref"] == [""]


def test_a_test_send_fills_the_links_in_for_the_sample_contact(account, sent, smtp_server):
    # given
    campaign, _received = sent
    smtp_server.messages.clear()
    # when
    campaign_send_test(campaign=campaign, recipients=["me@boutique.fr"])
    # then: a test send has no tracking tokens; its links are the targets, filled in
    (_to, message), = smtp_server.messages  # fmt: skip
    html = message.get_body(("html",)).get_content()
    assert "{{" not in html
    assert re.search(
        r'href="https://shop\.example\.com/ventes-privees\?ref=[0-9a-f]{20}&amp;', html
    )


PERSONAL = {*CONTACT_TAGS} - {"salutation"}


@pytest.mark.parametrize("slug", [template.slug for template in gallery()])
def test_gallery_links_carry_no_personal_data(slug):
    html = render_mjml(template_source(slug))
    for href in re.findall(r'href="([^"]*)"', html):
        for name in re.findall(r"\{\{\s*([\w.]+)", href):
            assert name not in PERSONAL and not name.startswith("fields."), (slug, href)
