"""Request hygiene shared by every page and endpoint."""

from django.http import HttpResponseBadRequest, JsonResponse


class RejectNulBytesMiddleware:
    """A NUL character can never be stored (PostgreSQL refuses it in text): a query string that
    holds one is a client error, answered 400 before any view turns it into a database error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            message = "NUL characters are not allowed in URLs."
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"code": "invalid", "message": message, "fields": {}}, status=400
                )
            return HttpResponseBadRequest(message)
        return self.get_response(request)
