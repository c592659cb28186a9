"""What an import's options (consent wording, default statuses) mean for the contacts it writes."""

from contacts.models import Channel, ConsentRecord, ConsentStatus, ContactImport
from contacts.services.consent import ConsentProof


def import_proof(contact_import: ContactImport) -> ConsentProof:
    return ConsentProof(
        source=ConsentRecord.Source.IMPORT,
        wording=contact_import.consent_wording,
        form=f"import #{contact_import.pk}: {contact_import.original_name}",
        actor=str(contact_import.created_by or ""),
    )


def import_default_statuses(contact_import: ContactImport) -> dict[str, str]:
    return {
        channel: status
        for channel, status in (
            (Channel.EMAIL, contact_import.email_status),
            (Channel.SMS, contact_import.sms_status),
        )
        if status != ConsentStatus.NONE
    }
