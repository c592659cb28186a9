from django.apps import AppConfig


class SendethicConfig(AppConfig):
    name = "sendethic"
    verbose_name = "Sendethic"

    def ready(self):
        # The top floor knows every app: it tells the dashboard's checklist how each step is done.
        from sendethic.getting_started_steps import register_getting_started_steps

        register_getting_started_steps()
