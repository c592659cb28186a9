"""What the contact pages share: page size, the consent proof of a page, service errors on forms."""

from accounts.errors import ServiceError
from contacts.forms import custom_form_name
from contacts.models import ConsentRecord
from contacts.services.consent import ConsentProof

PAGE_SIZE = 50


def ui_proof(request) -> ConsentProof:
    return ConsentProof(
        source=ConsentRecord.Source.UI,
        ip_address=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        actor=request.user.email,
    )


def form_add_service_error(form, error: ServiceError, *, others_on_form: bool = True) -> dict:
    """Put a service's refusal on `form`: each field's message on that field, a message about no
    field of the form (or about no field at all) on the form as a whole. With `others_on_form`
    false, those are returned instead, for a page that shows them elsewhere."""
    others = {}
    for name, reason in error.errors.items():
        form_name = (
            custom_form_name(name.removeprefix("fields.")) if name.startswith("fields.") else name
        )
        if form_name in form.fields:
            form.add_error(form_name, reason)
        else:
            others[name] = reason
    if not error.fields:
        others[""] = error.message
    if others_on_form:
        for reason in others.values():
            form.add_error(None, reason)
        return {}
    return others
