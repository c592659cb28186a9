from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "stats"

    def ready(self):
        # Email activity conditions for segments, the ESP tracking webhook receivers and the
        # erasure of a contact's events and hits (their messages are the channel's to erase).
        from stats import erasure, segments, webhooks  # noqa: F401
