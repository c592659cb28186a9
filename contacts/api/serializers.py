"""Serializers shared by several resources of the contact API."""

from rest_framework import serializers

from contacts.models import BUILTIN_FIELDS, Contact, Salutation


class ContactSerializer(serializers.ModelSerializer):
    mobile = serializers.CharField(read_only=True, help_text="E.164, or empty")
    salutation = serializers.ChoiceField(
        choices=Salutation.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Contact
        fields = ["id", *BUILTIN_FIELDS, "fields", "email_status", "sms_status"]
        fields += ["created_at", "updated_at"]
        read_only_fields = fields
