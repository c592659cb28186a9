"""The API conventions every app follows: one error shape, pagination, schema post-processing.

They live on the ground floor (beside the tenant) so that every app may use them and none has to
import the project package."""

import re

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.errors import ConflictError, NotFoundError, ServiceError


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class ErrorSerializer(serializers.Serializer):
    """The one shape of every API error."""

    code = serializers.CharField(help_text="Machine-readable error code, e.g. `invalid`.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per-field messages for validation errors; empty otherwise.",
    )


def _flatten_messages(detail) -> list[str]:
    if isinstance(detail, dict):
        return [
            f"{key}: {msg}" for key, value in detail.items() for msg in _flatten_messages(value)
        ]
    if isinstance(detail, list):
        return [msg for item in detail for msg in _flatten_messages(item)]
    return [str(detail)]


def _field_errors(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(key): _flatten_messages(value) for key, value in detail.items()}
    return {"non_field_errors": _flatten_messages(detail)}


def _service_error_status(exc: ServiceError) -> int:
    if isinstance(exc, NotFoundError):
        return status.HTTP_404_NOT_FOUND
    if isinstance(exc, ConflictError):
        return status.HTTP_409_CONFLICT
    return status.HTTP_400_BAD_REQUEST


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        # A service's refusal, in the one shape; no view translates it into another error.
        return Response(
            {"code": exc.code, "message": exc.message, "fields": exc.fields},
            status=_service_error_status(exc),
        )
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {
                "code": "too_large",
                "message": f"The request body is larger than the {limit:,} bytes allowed "
                "(upload files as multipart/form-data; send at most 1,000 contacts a call).",
                "fields": {},
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        exc = exceptions.ParseError(str(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_errors(exc.detail)
        body = {"code": "invalid", "message": "The request is invalid.", "fields": fields}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        if not isinstance(code, str):
            code = getattr(exc, "default_code", "error")
        body = {"code": code, "message": " ".join(_flatten_messages(detail)), "fields": {}}
    response.data = body
    return response


@csrf_exempt  # API clients send no CSRF token; this view changes nothing
def api_not_found(request, *args, **kwargs):
    """Unknown URLs under /api/ answer with the API's error shape, not an HTML page."""
    return JsonResponse(
        {"code": "not_found", "message": "No API endpoint at this URL.", "fields": {}}, status=404
    )


class CursorPagination(pagination.CursorPagination):
    """Cursor pages whose `page_size` is checked, not silently replaced by the default: a client
    asking for `page_size=abc` (or giving it twice) learns of its mistake from a 400."""

    ordering = "-pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        given = request.query_params.getlist(self.page_size_query_param)
        if not given:
            return self.page_size
        reason = f"Give a whole number from 1 to {self.max_page_size}, once."
        if len(given) > 1 or not re.fullmatch(r"[0-9]{1,9}", given[0]):
            raise exceptions.ValidationError({self.page_size_query_param: [reason]})
        size = int(given[0])
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError({self.page_size_query_param: [reason]})
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


ERROR_RESPONSES = {
    "400": "The request is invalid; `fields` says which field and why.",
    "401": "Missing, unknown or revoked API key.",
    "404": "No such object in this account.",
    "429": "Too many requests for this API key; retry after `Retry-After` seconds.",
}


def add_error_responses(result, generator, request, public):
    """Document the shared error shape on every operation (drf-spectacular post-processing hook)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "Machine-readable error code."},
            "message": {"type": "string", "description": "Human-readable explanation."},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "description": "Per-field messages for validation errors; empty otherwise.",
            },
        },
        "required": ["code", "message", "fields"],
    }
    for name, component in schemas.items():
        if name.endswith("Request"):
            _document_no_nul_in_text(component)
    error_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            for parameter in operation.get("parameters", []):
                _document_parameter_limits(parameter)
            responses = operation.setdefault("responses", {})
            codes = dict(ERROR_RESPONSES)
            if method in {"post", "patch", "delete"}:
                codes["409"] = "The request conflicts with the object's current state."
            if method in {"post", "put", "patch"}:
                codes["413"] = "The body is larger than the server accepts."
            for code, description in codes.items():
                existing = responses.get(code)
                if existing is None:
                    responses[code] = {"description": description, "content": error_ref}
                elif "content" not in existing:
                    existing["content"] = error_ref
    return result


INT64 = 2**63 - 1


def query_id(request, name: str) -> int | None:
    """The id given in query parameter `name`, if any: a positive 64-bit integer (the database's
    range), given once, or a 400 naming the parameter (an id past 64 bits was a 500 on SQLite;
    an empty `?list=` is no integer either)."""
    given = request.query_params.getlist(name)
    if not given:
        return None
    if len(given) == 1 and re.fullmatch(r"[0-9]{1,19}", given[0]) and 1 <= int(given[0]) <= INT64:
        return int(given[0])
    raise exceptions.ValidationError(
        {name: [f"Give the id of one object, a whole number from 1 to {INT64}, once."]}
    )


def query_text(request, name: str) -> str:
    """Query parameter `name`, given at most once (the schema says one string); "" if absent."""
    given = request.query_params.getlist(name)
    if len(given) > 1:
        raise exceptions.ValidationError({name: ["Give this parameter once."]})
    return given[0] if given else ""


def query_choice(request, name: str, choices, default=None):
    """Query parameter `name`: one of `choices` (the enum in the schema), given once, or a 400
    naming it (an unknown value used to be ignored, so a typo listed everything; so was an
    empty one, `?status=`, which is no value of the enum either)."""
    value = query_text(request, name)
    if name not in request.query_params:
        return default
    if value not in choices:
        raise exceptions.ValidationError({name: [f"Use one of: {', '.join(choices)}."]})
    return value


def query_bool(request, name: str) -> bool:
    """`true` or `false` (the schema's boolean), given at most once; absent is false."""
    given = request.query_params.getlist(name)
    if not given:
        return False
    if given in (["true"], ["false"]):
        return given == ["true"]
    raise exceptions.ValidationError({name: ["Give true or false, once."]})


def _document_parameter_limits(parameter: dict) -> None:
    """What the server enforces on every URL parameter, said in the schema: ids are positive
    64-bit integers (the database's range; anything else is a 404 or a 400), and text never holds
    a NUL character (refused with a 400 before any view)."""
    schema = parameter.get("schema", {})
    if schema.get("type") == "integer":
        if parameter["in"] == "path" or parameter["name"] in ID_PARAMETERS:
            schema.setdefault("minimum", 1)
        schema.setdefault("maximum", INT64)
        schema.setdefault("format", "int64")
    elif schema.get("type") == "string" and "enum" not in schema and "format" not in schema:
        schema.setdefault("pattern", "^[^\\u0000]*$")


def _document_no_nul_in_text(schema: dict) -> None:
    """Text in a request body never holds a NUL character either: DRF's CharField refuses it (a
    database cannot store it), so the schema says so for every free-text property."""
    if schema.get("type") == "string" and not {"enum", "pattern", "format"} & set(schema):
        schema["pattern"] = "^[^\\u0000]*$"
    for child in schema.get("properties", {}).values():
        _document_no_nul_in_text(child)
    if isinstance(schema.get("items"), dict):
        _document_no_nul_in_text(schema["items"])


# Query parameters that name an object of the account (filters): positive ids like path ids.
ID_PARAMETERS = {"id", "list", "segment", "campaign", "contact"}
