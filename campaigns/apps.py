from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self):
        # The erasure of a contact's sent messages (on contacts' `contact_erased`).
        from campaigns import erasure  # noqa: F401
