from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "automations"

    def ready(self):
        # Automations listen to the domain events of the apps below them; none of those apps
        # imports automations.
        from automations import triggers  # noqa: F401
