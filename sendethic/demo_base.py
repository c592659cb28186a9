"""The demo account's base (`make run`): a few hundred French contacts, lists, a segment and a
campaign sent nine days ago whose opens and clicks arrived over the following days.

Everything goes through the code a real account's data goes through: contacts through the bulk
upsert service (cleaning, consent ledger), lists and segment through their services, the campaign
through the send pipeline into the local outbox, and its opens and clicks as raw tracking hits
folded by the real ingest worker, so the report, the dashboard and each contact's timeline read
counters and events the way they always do. Only the clock is moved: the send happened now, and
is dated nine days back so that the activity after it can be spread over time.

Deterministic (a seeded random generator) and idempotent: an account that already has the demo
list is left alone.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from campaigns.engine.lifecycle import campaign_finish_if_done
from campaigns.gallery import render_mjml, template_source
from campaigns.models import EmailCampaign, Message, SenderAddress
from campaigns.pipeline import freeze_audience, send_batch
from campaigns.services import campaign_create
from contacts.models import ConsentRecord, ContactField, ContactList
from contacts.services.consent import ConsentProof
from contacts.services.contacts import contacts_bulk_upsert
from contacts.services.fields import field_create
from contacts.services.lists import list_add_contacts, list_create
from contacts.services.segments import segment_create
from stats.models import TrackingHit
from stats.services.events import record_bounce, record_unsubscribe
from stats.services.ingest import ingest_pending

NEWSLETTER_LIST = "Newsletter"
LOYAL_LIST = "Clients fidèles"
EVENT_LIST = "Invités salon Lyon"
SEGMENT_NAME = "Clientes fidèles (200 points et plus)"
CAMPAIGN_NAME = "Vente privée de printemps"
CONTACT_COUNT = 320
SENT_DAYS_AGO = 9
# Backends that keep mail on this machine: the demo never sends to its made-up addresses.
LOCAL_BACKENDS = {
    "campaigns.backends.OutboxBackend",
    "django.core.mail.backends.locmem.EmailBackend",
}

WOMEN = [
    "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Sarah", "Julie", "Clara", "Anaïs",
    "Élodie", "Céline", "Nathalie", "Isabelle", "Sophie", "Marion", "Aurélie", "Laure", "Hélène",
    "Margaux", "Océane", "Pauline", "Justine", "Zoé", "Mathilde", "Agnès", "Brigitte", "Françoise",
]  # fmt: skip
MEN = [
    "Lucas", "Hugo", "Louis", "Thomas", "Nicolas", "Julien", "Maxime", "Antoine", "Alexandre",
    "Romain", "Mathieu", "Guillaume", "Pierre", "Jérôme", "Sébastien", "François", "Olivier",
    "Benoît", "Théo", "Arthur", "Raphaël", "Yannick", "Cédric", "Loïc", "Gaëtan", "Hervé",
]  # fmt: skip
SURNAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont", "Lambert",
    "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc",
    "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément",
    "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez",
]  # fmt: skip
# (city, zip code, weight): a shop in Lyon with customers across France.
CITIES = [
    ("Lyon", "69003", 9), ("Lyon", "69006", 6), ("Villeurbanne", "69100", 4),
    ("Paris", "75011", 6), ("Paris", "75015", 4), ("Marseille", "13008", 4),
    ("Toulouse", "31000", 3), ("Bordeaux", "33000", 3), ("Nantes", "44000", 3),
    ("Lille", "59000", 3), ("Grenoble", "38000", 4), ("Annecy", "74000", 3),
    ("Saint-Étienne", "42000", 3), ("Strasbourg", "67000", 2), ("Montpellier", "34000", 2),
    ("Rennes", "35000", 2), ("Nice", "06000", 2), ("Dijon", "21000", 2),
]  # fmt: skip
DOMAINS = ["example.fr", "exemple.fr", "example.com", "example.net", "example.org"]
SHOPS = ["Lyon Presqu'île", "Lyon Part-Dieu", "Grenoble", "En ligne"]

# User agents as mail clients send them; ua-parser (stats.useragents) tells device and client.
PEOPLE_AGENTS = [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Mobile/15E148", 30),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/122.0.0.0 Safari/537.36", 14),
    ("Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/122.0.0.0 Mobile Safari/537.36", 16),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.9.0", 4),
    ("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)", 10),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)", 8),
    ("Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Mobile/15E148", 4),
    ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
     14),
]  # fmt: skip
# Apple Mail Privacy Protection fetches every image at delivery, from Apple's network.
APPLE_PROXY = ("Mozilla/5.0", "17.58.101.12")


@dataclass(frozen=True)
class DemoSummary:
    contacts: int
    campaign: EmailCampaign | None
    already_there: bool = False


def _pick(rng: random.Random, weighted: list[tuple]) -> tuple:
    return rng.choices(weighted, weights=[item[-1] for item in weighted])[0]


def _ascii(text: str) -> str:
    table = str.maketrans("éèêëàâäîïôöûüùçÉÈÊÀÂÎÔÛÇ' ", "eeeeaaaiioouuucEEEAAIOUC--")
    return text.translate(table).lower()


def _mobile(rng: random.Random) -> str:
    """A French mobile number in a range the numbering plan allocates (not every 06 is)."""
    while True:
        number = f"+336{rng.randint(10_000_000, 99_999_999)}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            return number


def demo_contact_rows(rng: random.Random, count: int = CONTACT_COUNT) -> list[dict]:
    """`count` contacts as an import would bring them: civility, names, birth dates, cities,
    mobiles, custom fields; most subscribed to email, some not (yet)."""
    rows, seen = [], set()
    today = date.today()
    while len(rows) < count:
        woman = rng.random() < 0.62
        first = rng.choice(WOMEN if woman else MEN)
        last = rng.choice(SURNAMES)
        email = f"{_ascii(first)}.{_ascii(last)}@{rng.choice(DOMAINS)}"
        if email in seen:
            email = f"{_ascii(first)}.{_ascii(last)}{rng.randint(2, 99)}@{rng.choice(DOMAINS)}"
            if email in seen:
                continue
        seen.add(email)
        city, zip_code, _weight = _pick(rng, CITIES)
        age_days = rng.randint(19 * 365, 74 * 365)
        status = rng.choices(
            ["subscribed", "unsubscribed", "pending", "soft_optin"], weights=[84, 6, 4, 6]
        )[0]
        row = {
            "email": email,
            "salutation": "mrs" if woman else "mr",
            "first_name": first,
            "last_name": last,
            "birth_date": (today - timedelta(days=age_days)).isoformat(),
            "city": city,
            "zip_code": zip_code,
            "country": "FR",
            "email_status": status,
            "fields": {
                "points_fidelite": rng.choice([0, 0, 40, 80, 120, 150, 220, 260, 340, 480, 650]),
                "client_depuis": (today - timedelta(days=rng.randint(30, 6 * 365))).isoformat(),
                "magasin_prefere": rng.choice(SHOPS),
            },
        }
        if rng.random() < 0.55:
            # No SMS consent: these valid numbers may belong to someone, never text them.
            row["mobile"] = _mobile(rng)
        rows.append(row)
    return rows


def _custom_fields(account: Account) -> None:
    wanted = [
        ("points_fidelite", "Points de fidélité", "number", None),
        ("client_depuis", "Client depuis", "date", None),
        ("magasin_prefere", "Magasin préféré", "choice", SHOPS),
    ]
    for key, label, kind, choices in wanted:
        if not ContactField.objects.filter(account=account, key=key).exists():
            field_create(account=account, key=key, label=label, type=kind, choices=choices)


def _sender(account: Account) -> SenderAddress:
    sender, _created = SenderAddress.objects.get_or_create(
        account=account,
        email="bonjour@boutique-lumiere.example",
        defaults={"name": "Boutique Lumière"},
    )
    if sender.verified_at is None:
        # The operator vouches for the demo sender, as for the demo login (no mailbox behind it).
        sender.verified_at = timezone.now()
        sender.save(update_fields=["verified_at"])
    return sender


def _send_campaign(account: Account, newsletter: ContactList, sender: SenderAddress):
    html = render_mjml(template_source("commerce-promotion"))
    campaign = campaign_create(
        account=account,
        data={
            "name": CAMPAIGN_NAME,
            "subject": "{{ first_name }}, la vente privée de printemps commence",
            "preheader": "Jusqu'à -40 % pendant 3 jours, réservé à nos abonnés",
            "sender": sender,
            "html": html,
            "lists": [newsletter],
        },
    )
    # Started in-process rather than by a worker: `make run` seeds before the workers start.
    EmailCampaign.objects.filter(pk=campaign.pk).update(
        status=EmailCampaign.Status.RUNNING, started_at=timezone.now()
    )
    freeze_audience(campaign)
    while send_batch(campaign.pk):
        pass
    campaign_finish_if_done(campaign)
    # Date the send nine days back (at 10:00) so the following activity can spread over days.
    sent_at = (timezone.localtime() - timedelta(days=SENT_DAYS_AGO)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    shift = timezone.now() - sent_at
    for message in Message.objects.filter(campaign=campaign, sent_at__isnull=False):
        message.sent_at -= shift
        message.save(update_fields=["sent_at"])
    campaign.refresh_from_db()
    campaign.started_at = sent_at
    campaign.finished_at = sent_at + timedelta(minutes=4)
    campaign.save(update_fields=["started_at", "finished_at"])
    return campaign


def _activity(rng: random.Random, campaign: EmailCampaign) -> None:
    """Raw hits as the tracking endpoints record them, then the ingest worker folds them."""
    links = list(campaign.links.order_by("index").values_list("index", flat=True))
    link_weights = [12 if index == 0 else 4 if index < 4 else 1 for index in links]
    now = timezone.now()
    hits = []
    for message in Message.objects.filter(campaign=campaign, status=Message.Status.SENT):
        if rng.random() < 0.12:  # Apple Mail Privacy Protection: an "open" at delivery
            agent, ip_address = APPLE_PROXY
            at = message.sent_at + timedelta(seconds=rng.randint(5, 90))
            hits.append((TrackingHit.Kind.OPEN, message, None, at, agent, ip_address))
        if rng.random() > 0.41:
            continue
        agent = _pick(rng, PEOPLE_AGENTS)[0]
        ip_address = f"90.{rng.randint(0, 120)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        # Most opens in the first hours, a long tail over the following days.
        delay = timedelta(minutes=rng.expovariate(1 / 300) + 3)
        at = min(message.sent_at + delay, now - timedelta(minutes=5))
        # The click follows the first reading; some come back to it later.
        click_at = at + timedelta(seconds=rng.randint(8, 240))
        for _open in range(rng.choices([1, 2, 3, 4], weights=[60, 25, 10, 5])[0]):
            hits.append((TrackingHit.Kind.OPEN, message, None, at, agent, ip_address))
            at = min(at + timedelta(minutes=rng.expovariate(1 / 900)), now)
        if links and rng.random() < 0.3:
            for index in set(rng.choices(links, weights=link_weights, k=rng.randint(1, 2))):
                hits.append((TrackingHit.Kind.CLICK, message, index, click_at, agent, ip_address))
                click_at += timedelta(seconds=rng.randint(20, 300))
    TrackingHit.objects.bulk_create(
        TrackingHit(
            kind=kind, campaign_id=campaign.pk, message_id=message.pk, link_index=index,
            occurred_at=min(at, now), user_agent=agent, ip_address=ip_address, method="GET",
        )
        for kind, message, index, at, agent, ip_address in hits
    )  # fmt: skip
    ingest_pending(max_batches=1000)


def _unsubscribes_and_bounces(rng: random.Random, campaign: EmailCampaign) -> None:
    sent = list(
        Message.objects.filter(campaign=campaign, status=Message.Status.SENT).order_by("pk")
    )
    picked = rng.sample(sent, k=min(len(sent), 6))
    for message in picked[:4]:
        record_unsubscribe(message=message, source="link")
    for message in picked[4:]:
        record_bounce(
            message=message,
            permanent=True,
            source="dsn",
            diagnostic="550 5.1.1 The email account that you tried to reach does not exist",
            occurred_at=message.sent_at + timedelta(minutes=2),
        )


@transaction.atomic
def seed_demo_base(account: Account, *, seed: int = 2025) -> DemoSummary:
    """Fill `account` with the demo base, once; a second call changes nothing."""
    if ContactList.objects.filter(account=account, name=NEWSLETTER_LIST).exists():
        return DemoSummary(contacts=account.contacts.count(), campaign=None, already_there=True)
    rng = random.Random(seed)
    if not account.postal_address:
        account.postal_address = "Boutique Lumière, 12 rue des Capucins, 69001 Lyon"
        account.save(update_fields=["postal_address"])
    _custom_fields(account)
    rows = demo_contact_rows(rng)
    proof = ConsentProof(
        source=ConsentRecord.Source.IMPORT,
        wording="Je souhaite recevoir les offres et nouveautés de Boutique Lumière par e-mail.",
        form="Caisse et site boutique-lumiere.example (données de démonstration)",
    )
    outcomes = []
    for start in range(0, len(rows), 200):
        outcomes += contacts_bulk_upsert(
            account=account, rows=rows[start : start + 200], proof=proof
        )
    contacts = [outcome.contact for outcome in outcomes if outcome.contact is not None]
    by_points = [c for c in contacts if float(c.fields.get("points_fidelite") or 0) >= 150]
    lyon = [c for c in contacts if c.city in ("Lyon", "Villeurbanne")]

    newsletter = list_create(
        account=account, name=NEWSLETTER_LIST, description="Abonnés à la lettre mensuelle"
    )
    list_add_contacts(contact_list=newsletter, contact_ids=[c.pk for c in contacts])
    loyal = list_create(account=account, name=LOYAL_LIST, description="150 points et plus")
    list_add_contacts(contact_list=loyal, contact_ids=[c.pk for c in by_points])
    guests = list_create(account=account, name=EVENT_LIST, description="Salon du 14 juin")
    list_add_contacts(
        contact_list=guests, contact_ids=[c.pk for c in rng.sample(lyon, k=len(lyon) // 3)]
    )
    segment_create(
        account=account,
        name=SEGMENT_NAME,
        description="Civilité Madame et au moins 200 points de fidélité",
        rules={
            "all": [
                {"field": "salutation", "op": "any_of", "value": ["mrs"]},
                {"field": "fields.points_fidelite", "op": "gte", "value": 200},
            ]
        },
    )
    campaign = None
    if settings.EMAIL_BACKEND in LOCAL_BACKENDS:
        campaign = _send_campaign(account, newsletter, _sender(account))
        _activity(rng, campaign)
        _unsubscribes_and_bounces(rng, campaign)
    return DemoSummary(contacts=len(contacts), campaign=campaign)
