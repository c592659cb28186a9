"""Segments on email activity: received, opened, clicked a campaign (or any), within N days.

The property test of tests/contacts/test_segments_property.py checks the compiler against the
reference on random data; these examples pin the meaning down where a reader can see it.
"""

import re
import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.utils import translation

from campaigns.models import EmailCampaign, Message
from contacts.models import Contact, Segment
from contacts.segments.compiler import segment_queryset
from contacts.segments.language import (
    MAX_DAYS,
    FieldCatalog,
    SegmentRuleError,
    validate_rules,
)
from stats.models import EmailEvent
from tests.conftest import requires_postgres
from tests.factories import (
    AccountFactory,
    ContactFactory,
    EmailCampaignFactory,
    EmailEventFactory,
    MessageFactory,
)

TODAY = date(2025, 3, 12)
OPEN, CLICK = EmailEvent.Kind.OPEN, EmailEvent.Kind.CLICK
SENT = Message.Status.SENT
WHOLE_DAYS = f"“days” must be a whole number between 1 and {MAX_DAYS}, or null for any time"
NOT_AN_OBJECT = 'the value must be an object: {"campaign": id or null, "days": number or null}'


@pytest.fixture(autouse=True)
def english_messages():
    with translation.override("en"):
        yield


def at(account, days_ago: int, hour: int = 12, minute: int = 0) -> datetime:
    """A moment `days_ago` days before TODAY, at a wall-clock time of the account's zone."""
    day = TODAY - timedelta(days=days_ago)
    return datetime(
        day.year, day.month, day.day, hour, minute, tzinfo=zoneinfo.ZoneInfo(account.timezone)
    )


def campaign_of(account, name: str, **extra) -> EmailCampaign:
    return EmailCampaignFactory(account=account, name=name, subject=name, **extra)


def contact_of(account, name: str) -> Contact:
    email = f"{name}@example.com"
    return ContactFactory(account=account, email=email, first_name=name)


def sent(campaign, contact, days_ago: int = 1, status=SENT, **time) -> Message:
    return MessageFactory(
        campaign=campaign,
        contact=contact,
        status=status,
        sent_at=at(campaign.account, days_ago, **time),
    )


def event(message, kind, days_ago: int = 1, machine_reason: str = "", **time) -> EmailEvent:
    return EmailEventFactory(
        message=message,
        kind=kind,
        occurred_at=at(message.campaign.account, days_ago, **time),
        machine_reason=machine_reason,
    )


def validate(account, rules):
    return validate_rules(rules, FieldCatalog.for_account(account), account)


def errors_of(account, rules) -> dict[str, str]:
    with pytest.raises(SegmentRuleError) as caught:
        validate(account, rules)
    return caught.value.errors


def activity(op: str, campaign=None, days=None) -> dict:
    return {"field": "email_activity", "op": op, "value": {"campaign": campaign, "days": days}}


def selected(account, *conditions, today: date = TODAY) -> set[str]:
    rules = validate(account, {"all": list(conditions)})
    return set(segment_queryset(account, rules, today=today).values_list("first_name", flat=True))


# --- Validation -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_values_come_back_complete(account):
    newsletter = campaign_of(account, "Newsletter")
    rules = {
        "any": [
            {"field": "email_activity", "op": "opened"},
            {"field": "email_activity", "op": "clicked", "value": None},
            {"field": "email_activity", "op": "received", "value": {"campaign": newsletter.pk}},
            {"field": "email_activity", "op": "not_opened", "value": {"days": MAX_DAYS}},
        ]
    }

    assert validate(account, rules) == {
        "any": [
            activity("opened"),
            activity("clicked"),
            activity("received", campaign=newsletter.pk),
            activity("not_opened", days=MAX_DAYS),
        ]
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12", NOT_AN_OBJECT),
        ([12, 30], NOT_AN_OBJECT),
        (30, NOT_AN_OBJECT),
        ({"campaign": None, "since": 3}, "unknown keys: since"),
        ({"campaign": "1"}, "no such email campaign: 1"),
        ({"campaign": True}, "no such email campaign: True"),
        ({"campaign": 1.0}, "no such email campaign: 1.0"),
        ({"campaign": 0}, "no such email campaign: 0"),
        ({"campaign": -4}, "no such email campaign: -4"),
        ({"campaign": 2**70}, f"no such email campaign: {2**70}"),
        ({"campaign": 987654}, "no such email campaign: 987654"),
        ({"days": 0}, WHOLE_DAYS),
        ({"days": -1}, WHOLE_DAYS),
        ({"days": MAX_DAYS + 1}, WHOLE_DAYS),
        ({"days": 1.5}, WHOLE_DAYS),
        ({"days": "30"}, WHOLE_DAYS),
        ({"days": True}, WHOLE_DAYS),
    ],
)
def test_a_bad_value_is_refused_at_its_path(account, value, message):
    rules = {
        "all": [
            {"field": "city", "op": "eq", "value": "Paris"},
            {"any": [{"field": "email_activity", "op": "opened", "value": value}]},
        ]
    }

    assert errors_of(account, rules) == {"all[1].any[0]": message}


@pytest.mark.django_db
def test_an_unknown_operator_lists_the_valid_ones(account):
    rules = {"all": [{"field": "email_activity", "op": "bounced", "value": {}}]}

    assert errors_of(account, rules) == {
        "all[0]": "operator “bounced” is not valid for a email_activity field; use one of: "
        "received, not_received, opened, not_opened, clicked, not_clicked, received_not_opened"
    }


@pytest.mark.django_db
def test_a_campaign_of_another_account_is_refused(account):
    # given
    theirs = campaign_of(AccountFactory(), "Their newsletter")
    ours = campaign_of(account, "Our newsletter")
    rules = {"all": [activity("opened", campaign=theirs.pk, days=30)]}

    # when / then
    assert errors_of(account, rules) == {"all[0]": f"no such email campaign: {theirs.pk}"}
    ours_rules = {"all": [activity("opened", campaign=ours.pk, days=30)]}
    assert validate(account, ours_rules) == ours_rules


@pytest.mark.django_db
def test_a_deleted_campaign_makes_the_rule_invalid(account):
    newsletter = campaign_of(account, "Newsletter")
    pk = newsletter.pk
    rules = {"all": [activity("received", campaign=pk)]}
    validate(account, rules)

    newsletter.delete()

    assert errors_of(account, rules) == {"all[0]": f"no such email campaign: {pk}"}


# --- Meaning --------------------------------------------------------------------------------


@pytest.fixture
def story(account):
    """Who did what with the spring and summer newsletters (days before TODAY)."""
    spring, summer = campaign_of(account, "Spring"), campaign_of(account, "Summer")
    people = {
        name: contact_of(account, name)
        for name in ("anne", "bob", "carl", "dora", "eve", "fay", "gus")
    }
    # anne opened spring; bob's only open came from a privacy proxy; carl clicked without
    # a tracked open; dora received nothing; eve opened spring long ago; fay's message bounced.
    event(sent(spring, people["anne"], 3), OPEN, 2)
    event(sent(spring, people["bob"], 3), OPEN, 2, machine_reason="privacy_proxy")
    event(sent(spring, people["carl"], 3), CLICK, 2)
    event(sent(spring, people["eve"], 100), OPEN, 99)
    sent(spring, people["fay"], 3, status=Message.Status.BOUNCED)
    # gus received both, opened summer only (a link scanner clicked spring for him).
    spring_gus = sent(spring, people["gus"], 3)
    event(spring_gus, CLICK, 3, machine_reason="scanner")
    event(sent(summer, people["gus"], 1), OPEN, 1)
    return {"spring": spring.pk, "summer": summer.pk}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (("received", "spring"), {"anne", "bob", "carl", "eve", "gus"}),
        (("received", "spring", 30), {"anne", "bob", "carl", "gus"}),
        (("received", None, None), {"anne", "bob", "carl", "eve", "gus"}),
        (("received", None, 2), {"gus"}),
        (("not_received", None, None), {"dora", "fay"}),
        (("not_received", "summer", None), {"anne", "bob", "carl", "dora", "eve", "fay"}),
        # a click proves the opening; a machine's open or click proves nothing
        (("opened", "spring"), {"anne", "carl", "eve"}),
        (("opened", "spring", 30), {"anne", "carl"}),
        (("opened", None, 1), {"gus"}),
        (("not_opened", None, None), {"bob", "dora", "fay"}),
        (("not_opened", "spring", 30), {"bob", "dora", "eve", "fay", "gus"}),
        (("clicked", None, None), {"carl"}),
        (("clicked", "spring", 1), set()),
        (("not_clicked", "spring"), {"anne", "bob", "dora", "eve", "fay", "gus"}),
        # the ones to send again: received it, did not open it
        (("received_not_opened", "spring"), {"bob", "gus"}),
        (("received_not_opened", "summer"), set()),
        # inactive: received something in the last 30 days, opened none of it
        (("received_not_opened", None, 30), {"bob"}),
        (("received_not_opened", None, None), {"bob"}),
    ],
)
def test_who_the_activity_conditions_select(account, story, condition, expected):
    op, campaign, *days = condition
    rule = activity(op, campaign=story.get(campaign), days=days[0] if days else None)

    assert selected(account, rule) == expected


@pytest.mark.django_db
def test_the_last_n_days_are_calendar_days_of_the_account(account):
    # given: an account in New York, opens around midnight there
    account.timezone = "America/New_York"
    account.save(update_fields=["timezone"])
    newsletter = campaign_of(account, "Newsletter")
    early, late, today = (contact_of(account, name) for name in ("early", "late", "today"))
    event(sent(newsletter, early, 10), OPEN, 7, hour=0, minute=1)  # first minute of day -7
    event(sent(newsletter, late, 10), OPEN, 8, hour=23, minute=59)  # last minute of day -8
    event(sent(newsletter, today, 10), OPEN, 0, hour=23, minute=59)

    # when / then
    assert selected(account, activity("opened", days=7)) == {"early", "today"}
    assert selected(account, activity("opened", days=8)) == {"early", "late", "today"}
    # the same moments are another calendar day in Paris
    account.timezone = "Europe/Paris"
    account.save(update_fields=["timezone"])
    assert selected(account, activity("opened", days=7)) == {"early", "late"}


@pytest.mark.django_db
def test_a_sandbox_campaign_counts_only_when_named(account):
    # given: a campaign started with a test key (recorded, never delivered)
    sandbox = campaign_of(account, "Try-out", sandbox=True)
    sent(sandbox, contact_of(account, "tess"), 1, status=Message.Status.SANDBOXED)
    tried = sent(sandbox, contact_of(account, "theo"), 1, status=Message.Status.SANDBOXED)
    event(tried, OPEN, 1)  # the developer followed the tracking pixel by hand

    # then
    assert selected(account, activity("received", campaign=sandbox.pk)) == {"tess", "theo"}
    assert selected(account, activity("received")) == set()
    assert selected(account, activity("received_not_opened", campaign=sandbox.pk)) == {"tess"}
    assert selected(account, activity("received_not_opened")) == set()


@pytest.mark.django_db
def test_another_accounts_activity_never_counts(account):
    # given: the same person in two accounts; only the other account wrote to them
    contact_of(account, "zoe")
    other = AccountFactory()
    theirs = campaign_of(other, "Theirs")
    event(sent(theirs, contact_of(other, "zoe"), 1), CLICK, 1)

    # then
    assert selected(account, activity("received")) == set()
    assert selected(account, activity("clicked")) == set()
    assert selected(account, activity("not_clicked")) == {"zoe"}


@pytest.mark.django_db
def test_activity_combines_with_other_conditions(account, story):
    rules = {
        "any": [
            {"all": [activity("opened", campaign=story["spring"]), activity("clicked")]},
            {"field": "first_name", "op": "eq", "value": "dora"},
        ]
    }

    assert selected(account, rules) == {"carl", "dora"}


@requires_postgres
@pytest.mark.django_db
@pytest.mark.parametrize("op", ["received", "opened", "clicked", "received_not_opened"])
@pytest.mark.parametrize("with_campaign", [True, False])
def test_activity_subqueries_can_use_indexes(account, story, op, with_campaign):
    rules = validate(
        account,
        {"all": [activity(op, campaign=story["spring"] if with_campaign else None, days=30)]},
    )
    sql, params = segment_queryset(account, rules, today=TODAY).query.sql_with_params()

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Seq Scan on campaigns_message" not in plan, plan
    assert "Seq Scan on stats_emailevent" not in plan, plan


# --- The segment builder --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_builder_offers_the_accounts_campaigns(logged_in_client, account):
    campaign_of(account, "Soldes d'été")
    campaign_of(AccountFactory(), "Leur campagne")

    response = logged_in_client.get("/contacts/segments/new/")

    catalog = response.context["catalog"]
    (entry,) = [field for field in catalog["fields"] if field["name"] == "email_activity"]
    assert entry["editor"] == "activity"
    assert [name for _pk, name in entry["campaigns"]] == ["Soldes d'été"]
    assert catalog["operators"]["email_activity"][0] == "received"
    # the account works in French
    assert catalog["operator_labels"]["received_not_opened"] == "a reçu sans ouvrir"
    assert entry["label"] == "Activité e-mail"


@pytest.mark.django_db
def test_the_builders_live_count_takes_activity(logged_in_client, account, story):
    rules = {"all": [activity("opened", campaign=story["spring"])]}

    response = logged_in_client.post(
        "/contacts/segments/preview/", {"rules": rules}, content_type="application/json"
    )

    assert response.json() == {"count": 3}
    other = campaign_of(AccountFactory(), "Theirs")
    response = logged_in_client.post(
        "/contacts/segments/preview/",
        {"rules": {"all": [activity("opened", campaign=other.pk)]}},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == {"all[0]": f"campagne e-mail inconnue : {other.pk}"}
    assert body["messages"] == [
        {
            "path": "all[0]",
            "text": f"Condition 1 (Activité e-mail) : campagne e-mail inconnue : {other.pk}",
        }
    ]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_pick_an_activity_condition_in_the_builder(logged_in_page, live_server, account):
    spring = campaign_of(account, "Printemps")
    campaign_of(account, "Été")
    now = datetime.now(tz=zoneinfo.ZoneInfo(account.timezone))
    for name, opened in [("anne", True), ("bob", False), ("carl", True)]:
        message = MessageFactory(
            campaign=spring,
            contact=contact_of(account, name),
            status=SENT,
            sent_at=now - timedelta(days=3),
        )
        if opened:
            EmailEventFactory(message=message, kind=OPEN, occurred_at=now - timedelta(days=2))
    page = logged_in_page
    page.goto("/contacts/segments/new/")
    page.wait_for_function("document.getElementById('segment-count').textContent === '3'")

    page.get_by_role("button", name="+ Condition").click()
    page.locator("[name='all[0]-field']").select_option("email_activity")
    page.locator("[name='all[0]-op']").select_option("opened")
    page.locator("[name='all[0]-value']").select_option(label="Printemps")
    page.wait_for_function("document.getElementById('segment-count').textContent === '2'")
    page.locator("[name='all[0]-op']").select_option("received_not_opened")
    page.wait_for_function("document.getElementById('segment-count').textContent === '1'")
    page.locator("[name='all[0]-days']").fill("1")
    page.wait_for_function("document.getElementById('segment-count').textContent === '0'")

    page.locator("#id_name").fill("Relance printemps")
    page.get_by_role("button", name="Enregistrer le segment").click()
    page.wait_for_url(re.compile(r"/contacts/segments/\d+/$"))
    segment = Segment.objects.get(account=account, name="Relance printemps")
    assert segment.rules == {"all": [activity("received_not_opened", campaign=spring.pk, days=1)]}
