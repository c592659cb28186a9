"""SMS settings come from the environment, and the engine's sends go to their channel's queue."""

from sendethic.celery import app


def route(args):
    return app.amqp.router.route({}, "campaigns.tasks.send_campaign_task", args, {})["queue"].name


def test_sends_are_routed_to_the_queue_of_their_channel():
    assert route((1, "sms")) == "sms"
    assert route((1, "email")) == "email"
    assert route((1,)) == "email"  # tasks queued before channels existed
    assert (
        app.amqp.router.route({}, "sms.tasks.resume_after_legal_hours_task", (), {})["queue"].name
        == "sms"
    )


def test_sms_settings_have_their_defaults(settings):
    assert settings.SMS_BACKEND == "sms.backends.outbox.SmsBackend"
    assert settings.SMS_OPT_OUT_MENTION == "STOP au 36180"
    assert settings.SMS_PRICES["EUR"]["FR"] == "0.0450"
