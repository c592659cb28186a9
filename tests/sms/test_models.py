import pytest
from django.core.exceptions import ValidationError

from sms.models import validate_sender_id


@pytest.mark.parametrize(
    "value", ["Boutique", "ABC", "Shop2025", "A1234567890", "+33612345678", "+262692123456"]
)
def test_valid_senders(value):
    validate_sender_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "AB",  # too short
        "Boutique2025",  # 12 characters
        "12345",  # digits only: taken for a short code
        "Ma boutique",  # a space
        "Boutiqué",  # not ASCII
        "Shop-Lyon",
        "0612345678",  # a national number, not E.164
        "+0612345678",
        "",
    ],
)
def test_invalid_senders(value):
    with pytest.raises(ValidationError):
        validate_sender_id(value)
