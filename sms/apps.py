from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "sms"

    def ready(self):
        # A higher app plugs its channel into the engine of a lower one (campaigns never
        # imports sms).
        from campaigns.engine.channel import register_channel
        from sms.channel import SMS

        register_channel(SMS)
        # SMS activity conditions for segments (the contact base never imports sms).
        from sms import segments  # noqa: F401
