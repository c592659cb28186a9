"""The segment builder in headless Chromium: conditions follow the field's type and the count
of matching contacts updates live while editing."""

import re

import pytest

from contacts.models import Segment
from contacts.services.fields import field_create
from contacts.typed_values import typed_values_refresh
from tests.factories import ContactFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_build_a_segment_with_a_live_count(logged_in_page, live_server, account):
    field_create(account=account, key="points", label="Points", type="number")
    for index, (city, points) in enumerate([("Paris", 150), ("Lyon", 50), ("Paris", 20)]):
        ContactFactory(
            account=account, email=f"c{index}@x.fr", city=city, fields={"points": points}
        )
    # Written with the ORM, not a contact service: derive the typed copies as services do.
    typed_values_refresh(account.pk)
    page = logged_in_page
    page.get_by_role("link", name="Segments").click()
    page.get_by_role("button", name="Nouveau segment").click()
    page.get_by_label("Nom").first.fill("Parisiens fidèles")
    count = page.get_by_test_id("segment-count")
    page.wait_for_function("document.getElementById('segment-count').textContent === '3'")

    # first condition: city is Paris
    page.get_by_role("button", name="+ Condition").click()
    page.locator("[name='all[0]-field']").select_option("city")
    page.locator("[name='all[0]-op']").select_option("eq")
    page.locator("[name='all[0]-value']").fill("paris")
    page.wait_for_function("document.getElementById('segment-count').textContent === '2'")

    # second condition: points > 100; the operator list follows the number type
    page.get_by_role("button", name="+ Condition").first.click()
    page.locator("[name='all[1]-field']").select_option("fields.points")
    operators = page.locator("[name='all[1]-op'] option").all_inner_texts()
    assert "est supérieur à" in operators and "contient" not in operators
    page.locator("[name='all[1]-op']").select_option("gt")
    page.locator("[name='all[1]-value']").fill("100")
    page.wait_for_function("document.getElementById('segment-count').textContent === '1'")
    assert count.inner_text() == "1"

    page.get_by_role("button", name="Enregistrer le segment").click()
    page.wait_for_url(re.compile(r"/contacts/segments/\d+/$"))
    segment = Segment.objects.get(account=account, name="Parisiens fidèles")
    assert segment.rules["all"][1] == {"field": "fields.points", "op": "gt", "value": 100}

    # the list shows its count; its contacts are one click away
    page.get_by_role("link", name="Segments").click()
    row = page.get_by_test_id("segment-row").filter(has_text="Parisiens fidèles")
    row.get_by_role("link", name="1").click()
    page.get_by_test_id("contact-row").filter(has_text="c0@x.fr").wait_for()
    assert page.get_by_test_id("contact-row").count() == 1


def test_birth_dates_take_relative_conditions_that_never_go_stale(
    logged_in_page, live_server, account
):
    from datetime import timedelta

    from contacts.segments.compiler import account_today
    from contacts.segments.language import years_before

    today = account_today(account)  # the segment's today: the account's time zone
    # 30 years old today, 17 years old (18 tomorrow), and a contact without a birth date
    adult = years_before(today, 30)
    ContactFactory(account=account, email="adult@x.fr", birth_date=adult, salutation="mrs")
    minor = years_before(today + timedelta(days=1), 18)
    ContactFactory(account=account, email="minor@x.fr", birth_date=minor)
    ContactFactory(account=account, email="unknown@x.fr")
    page = logged_in_page
    page.goto("/contacts/segments/new/")
    page.get_by_label("Nom").first.fill("Majeurs")
    page.wait_for_function("document.getElementById('segment-count').textContent === '3'")

    page.get_by_role("button", name="+ Condition").click()
    page.locator("[name='all[0]-field']").select_option(label="Date de naissance")
    operators = page.locator("[name='all[0]-op'] option").all_inner_texts()
    for relative in ("a au moins (ans)", "a au plus (ans)", "il y a plus de (jours)",
                     "anniversaire dans les (jours)"):  # fmt: skip
        assert relative in operators
    page.locator("[name='all[0]-op']").select_option(label="a au moins (ans)")
    age = page.locator("[name='all[0]-value']")
    assert age.input_value() == "18" and page.get_by_text("ans", exact=True).is_visible()
    page.wait_for_function("document.getElementById('segment-count').textContent === '1'")

    # a salutation reads as words, not codes
    page.get_by_role("button", name="+ Condition").first.click()
    page.locator("[name='all[1]-field']").select_option(label="Civilité")
    choices = page.locator("[name='all[1]-value'] option").all_inner_texts()
    assert choices == ["M.", "Mme"]
    page.locator("[name='all[1]-value']").select_option(["mrs"])
    page.wait_for_function("document.getElementById('segment-count').textContent === '1'")

    # an error says which condition, in words
    page.locator("[name='all[0]-value']").fill("")
    page.locator("[name='all[1]-field']").select_option(label="Ville")
    page.locator("[name='all[1]-op']").select_option(label="est")
    error = page.locator("#rule-errors p").filter(has_text="Condition 2 (Ville)")
    error.wait_for()
    assert error.inner_text() == "Condition 2 (Ville) : une valeur est requise"

    page.locator("[name='all[1]-value']").fill("Paris")
    page.locator("[name='all[0]-value']").fill("18")
    page.get_by_role("button", name="Enregistrer le segment").click()
    page.wait_for_url(re.compile(r"/contacts/segments/\d+/$"))
    segment = Segment.objects.get(account=account, name="Majeurs")
    assert segment.rules["all"][0] == {"field": "birth_date", "op": "age_at_least", "value": 18}
