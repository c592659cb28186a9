"""DRF authentication by API key: `Authorization: Bearer <key>` or Basic `account_number:key`."""

import base64
import binascii

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from apikeys.models import ApiKey
from apikeys.selectors import api_key_for_secret
from apikeys.services import api_key_touch


class ApiKeyPrincipal:
    """What `request.user` is for an API call: the key, on behalf of its account."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.account = api_key.account
        self.pk = f"api-key:{api_key.pk}"

    def __str__(self):
        return f"API key {self.api_key.prefix}…"


def _authenticated(request, api_key: ApiKey | None):
    if api_key is None:
        raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
    api_key_touch(api_key=api_key)
    # Downstream code reads the tenant from the request, as it does for web pages.
    request._request.account = api_key.account
    request._request.api_key = api_key
    return ApiKeyPrincipal(api_key), api_key


class ApiKeyBearerAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <key>'.")
        try:
            plaintext = header[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("Malformed API key.") from error
        return _authenticated(request, api_key_for_secret(plaintext))

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class ApiKeyBasicAuthentication(authentication.BaseAuthentication):
    """HTTP Basic with the account number as user name and the key as password."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"basic":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Basic credentials.")
        try:
            decoded = base64.b64decode(header[1], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise exceptions.AuthenticationFailed("Malformed Basic credentials.") from error
        account_number, sep, plaintext = decoded.partition(":")
        if not sep:
            raise exceptions.AuthenticationFailed("Basic credentials must be 'account_number:key'.")
        api_key = api_key_for_secret(plaintext)
        if api_key is not None and api_key.account.number != account_number.strip():
            api_key = None
        return _authenticated(request, api_key)

    def authenticate_header(self, request):
        return 'Basic realm="api"'


class HasApiKey(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, ApiKey)


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "apikeys.authentication.ApiKeyBearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key, e.g. `se_live_…`, from the API keys page.",
        }


class BasicScheme(OpenApiAuthenticationExtension):
    target_class = "apikeys.authentication.ApiKeyBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "User name: your account number; password: an API key.",
        }
