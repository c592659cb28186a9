from django.contrib import admin

from apikeys.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "mode", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["mode"]
    search_fields = ["name", "prefix", "account__name", "account__number"]
    readonly_fields = ["prefix", "slot", "created_at", "last_used_at", "created_by"]
    exclude = ["hashed_key"]
