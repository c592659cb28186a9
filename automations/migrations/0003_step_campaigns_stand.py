from django.db import migrations


def step_campaigns_stand(apps, schema_editor):
    """A scenario step's campaign was reopened before each send: now it stands."""
    StepCampaign = apps.get_model("automations", "StepCampaign")  # noqa: N806
    for model, column in (
        (apps.get_model("campaigns", "EmailCampaign"), "email_campaign_id"),
        (apps.get_model("sms", "SmsCampaign"), "sms_campaign_id"),
    ):
        steps = model.objects.filter(
            pk__in=StepCampaign.objects.exclude(**{column: None}).values(column)
        )
        steps.update(standing=True)
        steps.filter(status="finished").update(status="running", finished_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("automations", "0002_email_not_opened_trigger"),
        ("campaigns", "0013_standing_campaigns"),
        ("sms", "0006_standing_campaigns"),
    ]

    operations = [migrations.RunPython(step_campaigns_stand, migrations.RunPython.noop)]
