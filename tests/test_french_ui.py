"""No English or raw codes left in the French UI: the slips found when tried as a new user would."""

import html
import re

import pytest

from campaigns.templatetags.message_counts import message_counts
from contacts.segments.builder import builder_catalog
from tests.factories import (
    ContactFactory,
    ContactListFactory,
    EmailCampaignFactory,
    EmailEventFactory,
    ListMembershipFactory,
    MessageFactory,
    SegmentFactory,
    SenderAddressFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def french(account):
    account.language = "fr"
    account.save(update_fields=["language"])
    return account


def visible_text(response) -> str:
    page = response.content.decode()
    page = re.sub(r"(?s)<script.*?</script>", " ", page)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_main_pages_show_no_empty_choice_dashes_nor_raw_codes(logged_in_client, french):
    contact = ContactFactory(account=french, first_name="Élodie", salutation="mrs")
    ListMembershipFactory(contact_list=ContactListFactory(account=french), contact=contact)
    SegmentFactory(account=french)
    sender = SenderAddressFactory(account=french)
    draft = EmailCampaignFactory(account=french)
    sent = EmailCampaignFactory(account=french, sender=sender, status="running")
    MessageFactory(campaign=sent, contact=contact)
    pages = [
        "/", "/contacts/", "/contacts/new/", f"/contacts/{contact.pk}/", "/contacts/lists/",
        "/contacts/imports/", "/contacts/export/", "/contacts/segments/new/", "/email/",
        f"/email/{draft.pk}/", f"/email/{sent.pk}/", "/email/senders/", "/stats/",
        f"/stats/campaigns/{sent.pk}/", "/api-keys/", "/account/settings/",
    ]  # fmt: skip
    for url in pages:
        response = logged_in_client.get(url)
        assert response.status_code == 200, url
        text = visible_text(response)
        assert "---------" not in text, url
        for english in ("Sender", "queued :", "sent :", "Created:", "active keys", "1 clés"):
            assert english not in text, (url, english)


def test_the_campaign_form_names_its_sender_field_in_french(logged_in_client, french):
    draft = EmailCampaignFactory(account=french)
    text = visible_text(logged_in_client.get(f"/email/{draft.pk}/"))
    assert "Expéditeur" in text and "Choisissez une adresse d'expéditeur" in text


@pytest.mark.parametrize(
    ("stats", "french", "english"),
    [
        ({"queued": 7}, "7 en attente", "7 queued"),
        ({"sent": 7, "queued": 1}, "1 en attente · 7 envoyés", "1 queued · 7 sent"),
        ({"sent": 1, "bounced": 2}, "1 envoyé · 2 rejetés", "1 sent · 2 bounced"),
    ],
)
def test_campaign_message_counts_are_words(stats, french, english):
    from django.utils import translation

    with translation.override("fr"):
        assert message_counts(stats) == french
    with translation.override("en"):
        assert message_counts(stats) == english


def test_the_segment_builder_shows_salutations_in_words(french):
    from django.utils import translation

    with translation.override("fr"):
        catalog = builder_catalog(french)
    (salutation,) = [field for field in catalog["fields"] if field["name"] == "salutation"]
    assert salutation["choices"] == [["mr", "M."], ["mrs", "Mme"]]


@pytest.mark.parametrize(
    ("active", "expected"),
    [(0, "0 clé active sur 5"), (1, "1 clé active sur 5"), (3, "3 clés actives sur 5")],
)
def test_active_keys_agree_with_their_number(logged_in_client, french, active, expected):
    from apikeys.services import api_key_create

    for index in range(active):
        api_key_create(account=french, name=f"k{index}", mode="live")
    assert expected in visible_text(logged_in_client.get("/api-keys/"))


def test_report_figures_agree_with_their_number(logged_in_client, french):
    sender = SenderAddressFactory(account=french)
    campaign = EmailCampaignFactory(account=french, sender=sender, status="finished")
    contact = ContactFactory(account=french)
    message = MessageFactory(campaign=campaign, contact=contact, status="sent")
    EmailEventFactory(message=message, kind="open")
    EmailEventFactory(message=message, kind="unsubscribe")
    text = visible_text(logged_in_client.get(f"/stats/campaigns/{campaign.pk}/"))
    assert "sur 1 destinataire " in text
    assert "Désinscription " in text and "Désinscriptions" not in text
    assert "0 personne," in text and "0 clic " in text


def test_form_errors_are_grammatical_french(client, french):
    response = client.post("/login/", {"username": "pas-une-adresse", "password": "x"})
    text = visible_text(response)
    assert "Saisissez une adresse e-mail valide." in text
    assert "un adresse" not in text


def test_a_segment_error_says_which_condition_in_words(logged_in_client, french):
    import json

    response = logged_in_client.post(
        "/contacts/segments/preview/",
        json.dumps(
            {
                "rules": {
                    "all": [
                        {"field": "city", "op": "eq", "value": ""},
                        {"any": [{"field": "birth_date", "op": "age_at_least", "value": -1}]},
                    ]
                }
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == {"all[0]", "all[1].any[0]"}  # paths stay for machines
    texts = [item["text"] for item in body["messages"]]
    assert texts[0] == "Condition 1 (Ville) : une valeur est requise"
    assert texts[1].startswith("Groupe 2, condition 1 (Date de naissance) : la valeur doit")


def test_the_segment_page_shows_errors_in_words(logged_in_client, french):
    import json

    response = logged_in_client.post(
        "/contacts/segments/new/",
        {"name": "Parisiens", "rules": json.dumps({"all": [{"field": "city", "op": "eq"}]})},
    )
    text = visible_text(response)
    assert "Condition 1 (Ville) : une valeur est requise" in text and "all[0]" not in text


def test_the_import_options_offer_no_list_in_words(logged_in_client, french, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from contacts.imports.services import import_create

    settings.MEDIA_ROOT = tmp_path
    contact_import = import_create(
        account=french, uploaded_file=SimpleUploadedFile("c.csv", b"email\na@exemple.fr\n")
    )
    text = visible_text(logged_in_client.get(f"/contacts/imports/{contact_import.pk}/mapping/"))
    assert "Aucune liste" in text and "---------" not in text
