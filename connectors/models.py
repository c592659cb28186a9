"""Shop connections, their sync runs, and the local mirror of shop orders and carts.

The mirror (ShopCustomer, ShopOrder, ShopCart) keeps the few columns consolidation needs, so a
delta sync that reads one changed order can recompute that customer's totals over all their
orders without asking the shop for the others.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from contacts.models import ContactList

MIN_INTERVAL_HOURS = 12
DEFAULT_INTERVAL_HOURS = 24
DEFAULT_CART_DELAY_HOURS = 3
ENTITIES = ("customers", "orders", "carts")


class Platform(models.TextChoices):
    MAGENTO = "magento", "Magento 2"
    PRESTASHOP = "prestashop", "PrestaShop"


class ShopConnection(models.Model):
    class AuthMethod(models.TextChoices):
        OAUTH1 = "oauth1", _("OAuth 1.0a integration (consumer key/secret, access token/secret)")
        BEARER = "bearer", _("Access token as a bearer token")

    class DataScope(models.TextChoices):
        SIMPLE = "simple", _("Simple: contact details and newsletter")
        COMPLETE = "complete", _("Complete: also orders, carts and consolidated fields")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="shop_connections")
    name = models.CharField(_("name"), max_length=200)
    platform = models.CharField(
        _("platform"), max_length=12, choices=Platform.choices, default=Platform.MAGENTO
    )
    shop_url = models.URLField(_("shop URL"), max_length=500)
    auth_method = models.CharField(
        _("authentication"), max_length=8, choices=AuthMethod.choices, default=AuthMethod.OAUTH1
    )
    # Fernet token of the credentials (connectors.credentials); never shown back.
    credentials_encrypted = models.TextField(editable=False, default="")
    # Store view codes to read; empty means the shop's default scope (all store views).
    store_views = models.JSONField(_("store views"), default=list, blank=True)
    data_scope = models.CharField(
        _("data"), max_length=8, choices=DataScope.choices, default=DataScope.COMPLETE
    )
    write_back = models.BooleanField(
        _("write opt-outs back to the shop"),
        default=False,
        help_text=_("An unsubscribe here unsubscribes the customer from the shop's newsletter."),
    )
    soft_optin_marketable = models.BooleanField(
        _("customers with an order may receive marketing (soft opt-in)"), default=True
    )
    newsletter_instant_add = models.BooleanField(_("newsletter instant add"), default=False)
    newsletter_list = models.ForeignKey(
        ContactList,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("list for new newsletter subscribers"),
    )
    # Fernet token of the HMAC secret of the newsletter instant-add endpoint.
    webhook_secret_encrypted = models.TextField(editable=False, default="")
    sync_interval_hours = models.PositiveSmallIntegerField(
        _("sync interval (hours)"),
        default=DEFAULT_INTERVAL_HOURS,
        validators=[MinValueValidator(MIN_INTERVAL_HOURS), MaxValueValidator(24 * 30)],
    )
    cart_delay_hours = models.PositiveSmallIntegerField(
        _("abandoned-cart delay (hours)"),
        default=DEFAULT_CART_DELAY_HOURS,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 7)],
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE
    )
    first_import_at = models.DateTimeField(_("first import at"), null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    # Highest shop `updated_at` fully read, per entity ("YYYY-MM-DD HH:MM:SS", shop UTC).
    watermarks = models.JSONField(default=dict, blank=True, editable=False)
    # One run at a time: the run holding the connection, and until when its lease holds (renewed
    # on every page; a killed worker's lease runs out and the next run takes the run over).
    running_run = models.ForeignKey(
        "SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lease_until = models.DateTimeField(null=True, blank=True)
    # What the last successful "Test the connection" found: [{"id", "code", "name"}] of the
    # store views (Magento) or shops (PrestaShop), so the settings offer them as boxes to tick.
    discovered_views = models.JSONField(default=list, blank=True, editable=False)
    # The ready-made segments are created once; afterwards they are the account's to change.
    segments_created_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="unique_connection_name"),
            models.CheckConstraint(
                condition=models.Q(sync_interval_hours__gte=MIN_INTERVAL_HOURS),
                name="connection_interval_min_12h",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_platform_display()})"

    @property
    def field_prefix(self) -> str:
        return "mb" if self.platform == Platform.MAGENTO else "ps"


class SyncRun(models.Model):
    class Kind(models.TextChoices):
        FULL = "full", _("Full import")
        DELTA = "delta", _("Changes since the last run")
        CARTS = "carts", _("Abandoned carts")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Stopped")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Run now")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(ShopConnection, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    trigger = models.CharField(max_length=8, choices=Trigger.choices, default=Trigger.SCHEDULE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    customers_read = models.PositiveIntegerField(default=0)
    orders_read = models.PositiveIntegerField(default=0)
    carts_read = models.PositiveIntegerField(default=0)
    subscribers_read = models.PositiveIntegerField(default=0)
    contacts_created = models.PositiveIntegerField(default=0)
    contacts_updated = models.PositiveIntegerField(default=0)
    contacts_unchanged = models.PositiveIntegerField(default=0)
    contacts_rejected = models.PositiveIntegerField(default=0)
    # {reason: count} and a few examples, for the run log.
    rejections = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    # Per entity: {"since": shop time, "cursor_ts", "cursor_id", "page", "done", "max_ts"}.
    checkpoint = models.JSONField(default=dict, blank=True)
    # What the shop announced (total_count of the first page), for the progress bar.
    expected = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["connection", "status"], name="syncrun_connection_status")]

    def __str__(self):
        return f"{self.connection_id} {self.kind} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def records_read(self) -> int:
        return self.customers_read + self.orders_read + self.carts_read

    @property
    def total_known(self) -> bool:
        """Whether the shop announced how much there is to read (Magento's total_count);
        PrestaShop's webservice gives no totals: the bar then only shows that it works."""
        return bool(self.expected and sum(self.expected.values()))

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        total = sum(self.expected.values()) if self.expected else 0
        if not total:
            return 0
        done = self.customers_read + self.orders_read + self.carts_read
        return min(99, done * 100 // total)


class ShopCustomer(models.Model):
    """The shop's customers as last read: the newsletter flag the shop last reported (so that
    only a change in the shop changes consent here) and the store view."""

    # No index of its own: the unique (connection, external_id) index serves lookups by
    # connection, and every extra index slows the import's bulk writes.
    connection = models.ForeignKey(
        ShopConnection, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    external_id = models.BigIntegerField()
    email = models.CharField(max_length=254)
    is_subscribed = models.BooleanField(default=False)
    store_id = models.IntegerField(null=True)
    updated_at = models.CharField(max_length=19)
    # A full import reads every customer, order and cart first and then writes each contact
    # once: until then the contact row this customer's page built waits here (None: written).
    profile = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "external_id"], name="unique_shop_customer"
            )
        ]
        indexes = [models.Index(fields=["connection", "email"], name="shopcustomer_email")]

    def __str__(self):
        return f"customer {self.external_id}"


class ShopOrder(models.Model):
    # No index of its own: the unique (connection, external_id) index serves lookups by
    # connection, and every extra index slows the import's bulk writes.
    connection = models.ForeignKey(
        ShopConnection, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    external_id = models.BigIntegerField()
    email = models.CharField(max_length=254)
    customer_id = models.BigIntegerField(null=True)
    quote_id = models.BigIntegerField(null=True)
    # The buyer's name as on the order: a guest's only name.
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=32)
    grand_total = models.DecimalField(max_digits=14, decimal_places=4)
    total_refunded = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_id"], name="unique_shop_order")
        ]
        indexes = [models.Index(fields=["connection", "email"], name="shoporder_email")]

    def __str__(self):
        return f"order {self.external_id} ({self.state})"


class ShopCart(models.Model):
    """A customer's quote: its content is what `{{ cart.items }}` shows in an email."""

    # No index of its own: the unique (connection, external_id) index serves lookups by
    # connection, and every extra index slows the import's bulk writes.
    connection = models.ForeignKey(
        ShopConnection, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    external_id = models.BigIntegerField()
    email = models.CharField(max_length=254)
    is_active = models.BooleanField(default=True)
    items = models.JSONField(default=list)
    total = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    currency = models.CharField(max_length=3, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_id"], name="unique_shop_cart")
        ]
        indexes = [models.Index(fields=["connection", "email"], name="shopcart_email")]

    def __str__(self):
        return f"cart {self.external_id}"
