from django.contrib import admin

from connectors.models import ShopConnection, SyncRun


@admin.register(ShopConnection)
class ShopConnectionAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "platform", "shop_url", "status", "next_run_at"]
    list_filter = ["platform", "status"]
    # The encrypted credentials and webhook secret are not editable, so never shown here.
    readonly_fields = ["watermarks", "running_run", "lease_until", "segments_created_at"]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "connection", "kind", "status", "started_at", "finished_at",
                    "customers_read", "orders_read", "contacts_created", "contacts_rejected"]  # fmt: skip
    list_filter = ["status", "kind"]
    readonly_fields = [field.name for field in SyncRun._meta.fields]
