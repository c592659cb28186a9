"""Ready-made scenarios, one click from the gallery, in French first, editable like any draft.

A recipe fills the flow and the trigger; the marketer adds what only they know (the sender, an
SMS sender, the date field of a rebound) and the validation before activation says what is left.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from automations.services import scenario_create

FOOTER = '<p><a href="{{ unsubscribe_url }}">%s</a></p>'


@dataclass(frozen=True)
class Recipe:
    slug: str
    title: str
    description: str

    def build(self, sender_id, sms_sender_id) -> dict:
        return RECIPE_BUILDERS[self.slug](sender_id, sms_sender_id)


def _email(sid, subject, body, sender_id):
    html = f"<p>{body}</p>" + FOOTER % _("Unsubscribe")
    return {"id": sid, "kind": "email",
            "config": {"subject": subject, "html": html, "sender_id": sender_id}}  # fmt: skip


def _wait(sid, **duration):
    return {"id": sid, "kind": "wait", "config": {"mode": "duration", **duration}}


def _sms(sid, text, sms_sender_id):
    return {"id": sid, "kind": "sms", "config": {"text": text, "sender_id": sms_sender_id}}


SMS_CONSENT = {"all": [{"field": "sms_status", "op": "in", "value": ["subscribed"]}]}


def _birthday(sender, sms):
    return {
        "trigger": "date_anniversary",
        "trigger_config": {"field": "birth_date", "time": "09:00", "days_before": 0},
        "entry_rule": "again_after",
        "reentry_days": 300,
        "steps": [_email("birthday", _("Happy birthday {{ first_name }}!"),
                         _("The whole team wishes you a happy birthday. A gift awaits you."),
                         sender)],
    }  # fmt: skip


def _abandoned_cart(sender, sms):
    return {
        "trigger": "cart_abandoned",
        "entry_rule": "not_inside",
        "exit_event": "order_placed",
        "audience_rules": None,
        "steps": [
            _email("cart_email", _("You forgot something, {{ first_name }}"),
                   # The cart's own content, from the shop (campaigns.merge_context: connectors
                   # fills the `cart` namespace with the contact's latest abandoned cart).
                   _("Your cart is waiting for you: {{ cart.items }}, {{ cart.total }} "
                     "{{ cart.currency }} in all.")
                   + f'</p><p><a href="{{{{ cart.url }}}}">{_("Complete my order")}</a>',
                   sender),
            _wait("cart_wait", hours=24),
            {"id": "cart_sms_consent", "kind": "branch", "config": {"rules": SMS_CONSENT},
             "yes": [_sms("cart_sms", _("Your cart is still waiting for you!"), sms)], "no": []},
        ],
    }  # fmt: skip


def _welcome(sender, sms):
    return {
        "trigger": "contact_created",
        "entry_rule": "once",
        "steps": [
            _email("welcome_0", _("Welcome {{ first_name }}!"),
                   _("Thank you for joining us. Here is what to expect."), sender),
            _wait("welcome_wait_2", days=2),
            _email("welcome_2", _("Our best sellers"),
                   _("Discover what our customers love most."), sender),
            _wait("welcome_wait_7", days=5),
            _email("welcome_7", _("A little gift for you"),
                   _("Enjoy 10% off your first order."), sender),
        ],
    }  # fmt: skip


def _win_back(sender, sms):
    return {
        "trigger": "inactivity",
        "trigger_config": {"days": 90},
        "entry_rule": "again_after",
        "reentry_days": 180,
        "steps": [_email("winback", _("We miss you, {{ first_name }}"),
                         _("It has been a while. Come back and see what is new."), sender)],
    }  # fmt: skip


def _satisfaction(sender, sms):
    return {
        "trigger": "relative_date",
        "trigger_config": {"field": "", "days_after": 7, "time": "10:00"},
        "entry_rule": "again_after",
        "reentry_days": 30,
        "steps": [_email("satisfaction", _("How was your order?"),
                         _("Tell us in one minute what you thought of your order."), sender)],
    }  # fmt: skip


def _thank_you(sender, sms):
    return {
        "trigger": "order_placed",
        "entry_rule": "once",
        "steps": [_email("thanks", _("Thank you for your first order!"),
                         _("We are delighted to count you among our customers."), sender)],
    }  # fmt: skip


def _rebound(sender, sms):
    return {
        "trigger": "date_anniversary",
        "trigger_config": {"field": "", "days_before": 7, "time": "09:00"},
        "entry_rule": "again_after",
        "reentry_days": 300,
        "steps": [_email("rebound", _("An important date is coming, {{ first_name }}"),
                         _("One week to go: we have prepared something for you."), sender)],
    }  # fmt: skip


RECIPE_BUILDERS = {
    "birthday": _birthday,
    "abandoned_cart": _abandoned_cart,
    "welcome": _welcome,
    "win_back": _win_back,
    "satisfaction": _satisfaction,
    "thank_you": _thank_you,
    "rebound": _rebound,
}

RECIPES = [
    Recipe("birthday", gettext_lazy("Birthday email"),
           gettext_lazy("An email on each contact's birthday, at 9:00 in your time zone.")),
    Recipe("abandoned_cart", gettext_lazy("Abandoned cart"),
           gettext_lazy("An email when a cart is abandoned, an SMS 24 hours later if still no "
                        "order.")),
    Recipe("welcome", gettext_lazy("Welcome series"),
           gettext_lazy("Three emails to new contacts: day 0, day 2 and day 7.")),
    Recipe("win_back", gettext_lazy("Win back the inactive"),
           gettext_lazy("An email to contacts who opened nothing for 90 days.")),
    Recipe("satisfaction", gettext_lazy("Satisfaction survey"),
           gettext_lazy("Ask for an opinion 7 days after delivery (choose the delivery date "
                        "field).")),
    Recipe("thank_you", gettext_lazy("Thank you after a first order"),
           gettext_lazy("An email to thank each customer for their first order.")),
    Recipe("rebound", gettext_lazy("Rebound on a date"),
           gettext_lazy("An email 7 days before the anniversary of a date field of your "
                        "choice.")),
]  # fmt: skip
RECIPES_BY_SLUG = {recipe.slug: recipe for recipe in RECIPES}


def scenario_from_recipe(*, account, slug: str, sender_id=None, sms_sender_id=None):
    recipe = RECIPES_BY_SLUG[slug]
    data = recipe.build(sender_id, sms_sender_id)
    if slug == "abandoned_cart":
        data["audience_rules"] = None
    scenario = scenario_create(account=account, data={"name": str(recipe.title), **data})
    scenario.recipe = slug
    scenario.save(update_fields=["recipe"])
    return scenario
