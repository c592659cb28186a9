"""The one error path of the house (DESIGN §9).

A service refuses a write by raising a `ServiceError` (or a subclass): a machine-readable code, a
message for people and, where it is about given fields, a message per field. The API's exception
handler turns it into the `{code, message, fields}` shape (409 for a `ConflictError`); HTML views
put the same messages on their forms. Callers never translate one error into another.
"""

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    code = "invalid"
    default_message = _("The request is invalid.")

    def __init__(
        self,
        detail: str | dict[str, str | list[str]] | None = None,
        *,
        code: str | None = None,
    ):
        """`detail` is the message, or the reason per field (`{"email": "not an address"}`)."""
        message, fields = (None, detail) if isinstance(detail, dict) else (detail, None)
        self.fields: dict[str, list[str]] = {
            str(name): [str(text) for text in (reasons if isinstance(reasons, list) else [reasons])]
            for name, reasons in (fields or {}).items()
        }
        if message is None:
            message = (
                " ".join(f"{name}: {text}" for name, texts in self.fields.items() for text in texts)
                if self.fields
                else str(self.default_message)
            )
        self.message = str(message)
        if code is not None:
            self.code = code
        super().__init__(self.message)

    @property
    def errors(self) -> dict[str, str]:
        """One message per field (the first), for forms and older callers."""
        return {name: texts[0] for name, texts in self.fields.items() if texts}


class ConflictError(ServiceError):
    """The request is valid but the object's current state forbids it (HTTP 409)."""

    code = "conflict"
    default_message = _("The request conflicts with the object's current state.")


class NotFoundError(ServiceError):
    """The request names an object the account does not have (HTTP 404), like an id in a URL:
    a custom field key, a list, a campaign."""

    code = "not_found"
    default_message = _("No such object in this account.")
