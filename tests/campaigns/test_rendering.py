import email
from email import policy

from accounts.models import Account
from campaigns import rendering
from campaigns.models import EmailCampaign, Message, SenderAddress


def test_direct_mime_bytes_round_trip_exactly():
    account = Account(name="Boutique", postal_address="Paris")
    campaign = EmailCampaign(
        account=account,
        subject="{{ first_name }}, l'été arrive — profitez-en !",
        html="<p>" + "é" * 300 + "</p>\n.début de ligne\n<p>fin  </p>",
        sender=SenderAddress(email="news@boutique.fr", name="La Boutique Éphémère"),
        reply_to="contact@boutique.fr",
    )
    prepared = rendering.prepare(campaign)
    message = Message(pk=7, campaign=campaign, email="zoe@example.com")
    rendered = rendering.render_message(
        prepared, message, {"first_name": "Zoé"}, preheader="Soldes"
    )
    raw = rendering.mime_bytes(prepared, message, rendered)
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "Zoé, l'été arrive — profitez-en !"
    assert parsed["From"].addresses[0].display_name == "La Boutique Éphémère"
    assert parsed["Reply-To"] == "contact@boutique.fr"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = parsed.get_body(("html",)).get_content().replace("\r\n", "\n")
    text = parsed.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert html.rstrip("\n") == rendered.html.replace("\r\n", "\n").rstrip("\n")
    assert text.rstrip("\n") == rendered.text.replace("\r\n", "\n").rstrip("\n")


def test_long_non_ascii_subjects_are_encoded_words_that_parse_back():
    import email
    from email import policy

    from campaigns.rendering import _header

    for subject in ("Zoé, -50 % sur tout 🎉 jusqu'à dimanche " * 4, "é" * 120, "plain ASCII"):
        encoded = _header(subject)
        assert all(len(line) <= 78 for line in encoded.split("\r\n"))
        parsed = email.message_from_bytes(
            f"Subject: {encoded}\r\n\r\nbody".encode(), policy=policy.default
        )
        assert parsed["Subject"] == subject
