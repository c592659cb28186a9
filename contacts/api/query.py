"""Query parameters read exactly as the schema documents them: one value, of the announced kind,
or a 400 naming the parameter (a repeated or unknown value was silently ignored before)."""

from rest_framework.exceptions import ValidationError

from accounts.api_conventions import query_id


def query_text(request, name: str) -> str:
    """Query parameter `name`, given at most once (the schema says one string); "" if absent."""
    given = request.query_params.getlist(name)
    if len(given) > 1:
        raise ValidationError({name: ["Give this parameter once."]})
    return given[0] if given else ""


def query_choice(request, name: str, choices, default: str = "") -> str:
    """Query parameter `name`: one of `choices` (the enum in the schema), given once."""
    value = query_text(request, name)
    if not value:
        return default
    if value not in choices:
        raise ValidationError({name: [f"Use one of: {', '.join(choices)}."]})
    return value


def query_object_id(request, name: str) -> int | None:
    """`query_id`, where an empty value (`?list=`) is refused too: the schema says an integer."""
    if request.query_params.getlist(name) == [""]:
        raise ValidationError({name: ["Give the id of one object, or leave the parameter out."]})
    return query_id(request, name)
