"""Per-message rendering cost of the merge-context registry (`{{ cart.* }}`, the cart block),
against the baseline in the same process: the same campaign rendered with a plain dict of
values, as before the registry existed.

- gallery email, plain dict (baseline) vs the lazy MergeValues: what every campaign now pays
  (both build the contact's values per message, as the send path does);
- the same email with a cart block of 3 rows, its provider answering from memory: the CPU cost
  of expanding the rows (the provider's queries come on top, only for campaigns using cart tags).

    python -m bench.cart_merge [--rounds 300]
"""

import argparse
import statistics
import time


def _median_us(function, rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        timings.append((time.perf_counter() - start) * 1_000_000)
    return statistics.median(timings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    rounds = parser.parse_args(argv or []).rounds

    from bench.import_contacts import setup_django

    setup_django()
    from accounts.models import Account
    from campaigns import merge_context, merge_tags, rendering
    from campaigns.editor.compiler import design_to_html
    from campaigns.editor.design import design_normalise
    from campaigns.editor.importer import design_from_mjml
    from campaigns.gallery import template_source
    from campaigns.models import EmailCampaign, Message
    from contacts.models import Contact

    account = Account(name="Boutique", postal_address="Paris", timezone="Europe/Paris")
    contact = Contact(pk=1, account=account, email="zoe@example.com", first_name="Zoé", fields={})
    design = design_from_mjml(template_source("commerce-promotion"))
    plain_html = design_to_html(design)
    design["sections"][0]["columns"][0]["blocks"].append(
        design_normalise(
            {"sections": [{"columns": [{"blocks": [{"type": "cart", "label": "Finaliser"}]}]}]}
        )["sections"][0]["columns"][0]["blocks"][0]
    )
    cart_html = design_to_html(design)
    rows = [
        {"name": f"Article {n} <b>", "quantity": "1", "price": "9.90", "image_url": ""}
        for n in range(3)
    ]
    previous = merge_context.registered().get("cart")
    merge_context.register(
        merge_context.MergeContext(
            namespace="cart",
            fields={"url": "", "total": "0.00", "currency": "", "item_count": "0"},
            lists={"items": ("name", "quantity", "price", "image_url")},
            provider=lambda account, contact: {
                "url": "https://boutique.example/cart",
                "total": "29.70",
                "currency": "EUR",
                "item_count": "3",
                "items": rows,
            },
        )
    )
    try:
        figures = {}
        for label, html in (("gallery email", plain_html), ("with a cart block", cart_html)):
            campaign = EmailCampaign(pk=1, account=account, subject="Bonjour {{ first_name }}")
            campaign.html = html
            prepared = rendering.prepare(campaign)
            message = Message(pk=7, campaign=campaign, email=contact.email, contact=contact)

            def with_plain(prepared=prepared, message=message):
                plain = dict(merge_tags.contact_values(contact, account))
                rendering.render_message(prepared, message, plain, preheader="")

            def with_lazy(prepared=prepared, message=message):
                values = merge_tags.contact_values(contact, account)
                rendering.render_message(prepared, message, values, preheader="")

            figures[f"{label}, plain dict"] = _median_us(with_plain, rounds)
            figures[f"{label}, MergeValues"] = _median_us(with_lazy, rounds)
        baseline = figures["gallery email, plain dict"]
        for name, value in figures.items():
            print(f"{name:>32}: {value:8.1f} µs per message ({value / baseline:4.2f}× baseline)")
    finally:
        if previous is not None:
            merge_context.register(previous)


if __name__ == "__main__":
    main()
