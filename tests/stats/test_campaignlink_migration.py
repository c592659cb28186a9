"""CampaignLink moved from stats to campaigns on the same table (state-only migrations in both
apps): the links and the events pointing to them survive the move both ways, and the whole
history still builds a database from nothing."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from campaigns.models import CampaignLink
from stats.models import EmailEvent

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("campaigns", "0005_message_by_esp_id"), ("stats", "0001_initial")]


def migrate(targets):
    """Migrate the test database to `targets`; the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()  # what is applied changed
    reached = [target for target in targets if target[1] is not None]
    return executor.loader.project_state(reached).apps if reached else None


def leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_links_and_their_events_survive_the_move_and_its_reversal():
    old = migrate(BEFORE)
    account = old.get_model("accounts", "Account").objects.create(name="Boutique")
    campaign = old.get_model("campaigns", "EmailCampaign").objects.create(
        account_id=account.pk, name="Soldes", subject="Soldes"
    )
    message = old.get_model("campaigns", "Message").objects.create(
        campaign_id=campaign.pk, email="zoe@example.com"
    )
    old_link = old.get_model("stats", "CampaignLink").objects.create(
        campaign_id=campaign.pk, index=0, url="https://shop.fr/", clicks_total=3
    )
    old.get_model("stats", "EmailEvent").objects.create(
        account_id=account.pk, campaign_id=campaign.pk, message_id=message.pk, kind="click",
        link_id=old_link.pk, occurred_at=timezone.now(),
    )  # fmt: skip

    migrate(leaves())
    link = CampaignLink.objects.get(campaign_id=campaign.pk)
    assert (link.pk, link.url, link.clicks_total) == (old_link.pk, "https://shop.fr/", 3)
    assert EmailEvent.objects.get(message_id=message.pk).link == link
    assert list(campaign_links(campaign.pk)) == [link.pk]

    back = migrate(BEFORE)
    assert back.get_model("stats", "CampaignLink").objects.get(pk=link.pk).clicks_total == 3
    migrate(leaves())
    assert CampaignLink.objects.filter(pk=link.pk).exists()


def campaign_links(campaign_id):
    # Through the reverse relation the reports use (EmailCampaign.links).
    from campaigns.models import EmailCampaign

    return EmailCampaign.objects.get(pk=campaign_id).links.values_list("pk", flat=True)


def test_both_apps_migrate_from_nothing_and_back_to_nothing():
    migrate([("stats", None), ("campaigns", None)])
    assert "stats_campaignlink" not in connection.introspection.table_names()
    migrate(leaves())
    assert "stats_campaignlink" in connection.introspection.table_names()
    # the unique (campaign, index) constraint came through
    constraints = connection.introspection.get_constraints(
        connection.cursor(), CampaignLink._meta.db_table
    )
    assert any(
        c["unique"] and c["columns"] == ["campaign_id", "index"] for c in constraints.values()
    )
