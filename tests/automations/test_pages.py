"""The scenario pages: gallery, editor (add, configure, move, remove steps), activation, test
mode, tenancy."""

import pytest

from automations.models import Scenario
from automations.services import scenario_create
from tests.factories import AccountFactory, ContactFactory, SegmentFactory


@pytest.mark.django_db
def test_the_list_shows_the_gallery_in_french(logged_in_client):
    page = logged_in_client.get("/automations/", HTTP_ACCEPT_LANGUAGE="fr")
    text = page.content.decode()
    assert page.status_code == 200
    for title in ("E-mail d’anniversaire", "Relancer les inactifs", "Série de bienvenue"):
        assert title in text


@pytest.mark.django_db
def test_building_a_flow_in_the_editor(logged_in_client, account, sender):
    # given
    logged_in_client.post("/automations/", {"name": "Essai"})
    scenario = Scenario.objects.get(account=account)
    url = f"/automations/{scenario.pk}/"
    # when: an email, a condition with a wait in its "yes" arm
    logged_in_client.post(f"{url}steps/", {"kind": "email", "place": ""})
    logged_in_client.post(f"{url}steps/", {"kind": "branch", "place": ""})
    scenario.refresh_from_db()
    mail, branch = (step["id"] for step in scenario.steps)
    logged_in_client.post(f"{url}steps/", {"kind": "wait", "place": f"{branch}:yes"})
    logged_in_client.post(
        f"{url}steps/{mail}/configure/",
        {
            "subject": "Bonjour {{ first_name }}",
            "sender": sender.pk,
            "html": '<p>Hi</p><a href="{{ unsubscribe_url }}">Se désinscrire</a>',
        },
    )
    segment = SegmentFactory(account=account, name="Parisiens",
                             rules={"all": [{"field": "city", "op": "eq", "value": "Paris"}]})  # fmt: skip
    logged_in_client.post(f"{url}steps/{branch}/configure/", {"segment": segment.pk})
    logged_in_client.post(f"{url}steps/{mail}/down/")
    # then
    scenario.refresh_from_db()
    assert [s["kind"] for s in scenario.steps] == ["branch", "email"]
    assert scenario.steps[0]["yes"][0]["kind"] == "wait"
    assert scenario.steps[1]["config"]["subject"] == "Bonjour {{ first_name }}"
    page = logged_in_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "À corriger avant l’activation" not in page
    # when removed
    logged_in_client.post(f"{url}steps/{branch}/remove/")
    scenario.refresh_from_db()
    assert [s["kind"] for s in scenario.steps] == ["email"]
    logged_in_client.post(f"{url}activate/")
    scenario.refresh_from_db()
    assert scenario.status == "active"


@pytest.mark.django_db
def test_activation_waits_for_the_problems_to_be_fixed(logged_in_client, account):
    scenario = scenario_create(
        account=account, data={"name": "Vide", "steps": [{"id": "m", "kind": "email"}]}
    )
    page = logged_in_client.get(f"/automations/{scenario.pk}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "L’e-mail n’a pas d’objet." in page.content.decode()
    logged_in_client.post(f"/automations/{scenario.pk}/activate/")
    scenario.refresh_from_db()
    assert scenario.status == "draft"


@pytest.mark.django_db
def test_the_test_mode_shows_what_one_contact_would_get(logged_in_client, account, sender):
    ContactFactory(account=account, email="zoe@example.com", first_name="Zoé",
                   email_status="subscribed")  # fmt: skip
    steps = [
        {"id": "w", "kind": "wait", "config": {"mode": "duration", "days": 2}},
        {"id": "m", "kind": "email",
         "config": {"subject": "Bonjour {{ first_name }}", "html": "x", "sender_id": sender.pk}},
    ]  # fmt: skip
    scenario = scenario_create(account=account, data={"name": "Test", "steps": steps})
    page = logged_in_client.get(
        f"/automations/{scenario.pk}/?contact=zoe@example.com", HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "Enverrait « Bonjour Zoé »" in page
    from campaigns.models import Message

    assert not Message.objects.exists()


@pytest.mark.django_db
def test_another_accounts_scenario_is_404(logged_in_client):
    theirs = scenario_create(account=AccountFactory(), data={"name": "À eux"})
    assert logged_in_client.get(f"/automations/{theirs.pk}/").status_code == 404
    assert logged_in_client.post(f"/automations/{theirs.pk}/activate/").status_code == 404
    assert (
        logged_in_client.post(f"/automations/{theirs.pk}/steps/", {"kind": "end"}).status_code
        == 404
    )


@pytest.mark.django_db
def test_a_contacts_page_shows_its_journeys(logged_in_client, account):
    from automations import engine
    from automations.services import scenario_activate, scenario_enrol

    zoe = ContactFactory(account=account)
    steps = [{"id": "w", "kind": "wait", "config": {"mode": "duration", "days": 1}}]
    scenario = scenario_activate(
        scenario=scenario_create(account=account, data={"name": "Accueil", "steps": steps})
    )
    scenario_enrol(scenario=scenario, contact_ids=[zoe.pk])
    engine.drain()
    contact_page = logged_in_client.get(f"/contacts/{zoe.pk}/").content.decode()
    assert f"/automations/contacts/{zoe.pk}/" in contact_page
    fragment = logged_in_client.get(f"/automations/contacts/{zoe.pk}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "Accueil" in fragment.content.decode() and "En attente" in fragment.content.decode()
    other = ContactFactory(account=AccountFactory())
    assert logged_in_client.get(f"/automations/contacts/{other.pk}/").status_code == 404


@pytest.mark.django_db
def test_the_trigger_form_sets_a_not_opened_trigger_and_keeps_segment_rules(
    logged_in_client, account
):
    from tests.factories import EmailCampaignFactory

    newsletter = EmailCampaignFactory(account=account, name="Lettre de juin")
    scenario = scenario_create(account=account, data={"name": "Relance"})
    url = f"/automations/{scenario.pk}/"
    assert "Lettre de juin" in logged_in_client.get(url).content.decode()

    logged_in_client.post(
        f"{url}settings/",
        {"trigger": "email_not_opened", "trigger_campaign": newsletter.pk, "trigger_days": "3"},
    )

    scenario.refresh_from_db()
    assert scenario.trigger == "email_not_opened"
    assert scenario.trigger_config == {"campaign_id": newsletter.pk, "days": 3}
    # a segment trigger's rules are not on the form: saving the name again keeps them
    rules = {"all": [{"field": "city", "op": "eq", "value": "Paris"}]}
    logged_in_client.post(f"{url}settings/", {"trigger": "segment_entered",
                                              "segment": SegmentFactory(account=account, rules=rules).pk})  # fmt: skip
    logged_in_client.post(f"{url}settings/", {"name": "Parisiens", "trigger": "segment_entered"})
    scenario.refresh_from_db()
    assert scenario.name == "Parisiens" and scenario.trigger_config["rules"] == rules
