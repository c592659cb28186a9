from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"

    def ready(self):
        # Opt-out write-back to the shop and erasure of the mirror rows (contacts.signals).
        from connectors import (
            merge_context,
            receivers,  # noqa: F401
            services,
            tasks,
        )

        services.run_dispatcher = tasks.sync_connection_task.delay
        # `{{ cart.* }}` in emails: campaigns' merge-context registry (campaigns import no shop).
        merge_context.register()
