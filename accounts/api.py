from rest_framework import serializers

from accounts.models import Account


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["number", "name", "timezone", "language", "default_phone_region", "contact_key"]
        fields += ["postal_address"]
        fields += ["created_at"]
        read_only_fields = ["number", "contact_key", "created_at"]
