from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "stats"

    def ready(self):
        # Email activity conditions for segments, the ESP tracking webhook receivers and the
        # erasure of a contact's email history.
        from stats import erasure, segments, webhooks  # noqa: F401
