from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self):
        # The erasure of a contact's sent messages (on contacts' `contact_erased`). The email
        # channel plugs into the send engine as any channel does (SMS registers its own from its
        # app), and the engine enqueues sends through the tasks module without importing it.
        from campaigns import erasure, tasks  # noqa: F401
        from campaigns.email_channel import EMAIL
        from campaigns.engine.channel import register_channel
        from campaigns.engine.lifecycle import set_dispatcher

        register_channel(EMAIL)
        set_dispatcher(tasks.dispatch_send)
