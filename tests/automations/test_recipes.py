"""The recipes gallery: each recipe makes a draft that only lacks what the marketer knows."""

import pytest

from automations.recipes import RECIPES, scenario_from_recipe
from automations.services import scenario_activate, scenario_problems, scenario_update
from sms.models import SmsSender


@pytest.mark.django_db
@pytest.mark.parametrize("recipe", [r.slug for r in RECIPES])
def test_each_recipe_is_ready_once_given_a_sender_and_its_date_field(account, sender, recipe):
    sms = SmsSender.objects.create(account=account, value="Boutique")
    scenario = scenario_from_recipe(
        account=account, slug=recipe, sender_id=sender.pk, sms_sender_id=sms.pk
    )
    if scenario.trigger_config.get("field") == "":
        assert scenario_problems(scenario)  # the date field is the marketer's choice
        scenario = scenario_update(
            scenario=scenario,
            data={"trigger_config": {**scenario.trigger_config, "field": "birth_date"}},
        )
    assert scenario_problems(scenario) == []
    assert scenario_activate(scenario=scenario).status == "active"


@pytest.mark.django_db
def test_a_recipe_without_sender_says_so_in_french(account, settings):
    from django.utils import translation

    with translation.override("fr"):
        scenario = scenario_from_recipe(account=account, slug="welcome")
        messages = {problem["message"] for problem in scenario_problems(scenario)}
    assert "L’e-mail n’a pas d’expéditeur." in messages
    assert scenario.name == "Série de bienvenue"
