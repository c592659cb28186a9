"""Settings of the Celery workers the SMS crash test starts (tests/sms/test_sms_reliability.py):
the project's, with the Twilio simulator of the test as the SMS provider."""

import os

from sendethic.settings import *  # noqa: F403

SMS_BACKEND = "sms.backends.twilio.SmsBackend"
TWILIO_ACCOUNT_SID = os.environ["TEST_TWILIO_ACCOUNT_SID"]
TWILIO_AUTH_TOKEN = os.environ["TEST_TWILIO_AUTH_TOKEN"]
TWILIO_API_URL = os.environ["TEST_TWILIO_API_URL"]
TWILIO_STATUS_CALLBACKS = False
SMS_SEND_RATE_PER_ACCOUNT = 100_000
