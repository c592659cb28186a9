from django.db import migrations, models
from django.utils import timezone


def existing_accounts_are_verified(apps, schema_editor):
    # Accounts made before signup verification existed keep sending: an operator created them or
    # they were already using the platform.
    apps.get_model("accounts", "Account").objects.update(email_verified_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_account_postal_address"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="email_verified_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="email verified at"),
        ),
        migrations.RunPython(existing_accounts_are_verified, migrations.RunPython.noop),
    ]
