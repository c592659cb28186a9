"""CampaignLink moves from stats to campaigns (the channel makes the links; stats reads them).

State only: the table `stats_campaignlink` exists already (stats 0001) and keeps its name and its
rows. stats 0002 then removes the model from stats' state and points EmailEvent.link here.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0005_message_by_esp_id'),
        ('stats', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CampaignLink',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('index', models.PositiveIntegerField()),
                        ('url', models.TextField()),
                        ('clicks_total', models.PositiveIntegerField(default=0)),
                        ('clicks_unique', models.PositiveIntegerField(default=0)),
                        ('machine_clicks', models.PositiveIntegerField(default=0)),
                        ('campaign', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='links', to='campaigns.emailcampaign')),
                    ],
                    options={
                        'db_table': 'stats_campaignlink',
                        'ordering': ['campaign', 'index'],
                        'constraints': [models.UniqueConstraint(fields=('campaign', 'index'), name='unique_campaign_link')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
