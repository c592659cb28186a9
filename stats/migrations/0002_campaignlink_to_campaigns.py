"""CampaignLink now belongs to campaigns (campaigns 0006 took it over, same table): EmailEvent.link
points there and stats' own copy leaves the state. State only: the foreign key already references
`stats_campaignlink`, which is the table campaigns' model uses."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0006_campaignlink_from_stats'),
        ('stats', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='emailevent',
                    name='link',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='campaigns.campaignlink'),
                ),
                migrations.DeleteModel(
                    name='CampaignLink',
                ),
            ],
            database_operations=[],
        ),
    ]
