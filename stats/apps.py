from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "stats"

    def ready(self):
        # Email activity conditions for segments, and the ESP tracking webhook receivers.
        from stats import segments, webhooks  # noqa: F401
