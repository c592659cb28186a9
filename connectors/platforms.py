"""The shop client of a connection's platform, built from its stored settings."""

import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from connectors.credentials import decrypt_credentials
from connectors.models import Platform, ShopConnection
from connectors.public_http import is_public_address
from connectors.shop_client import ShopClient, ShopError, ShopHostPrivate


class PlatformNotSupported(ShopError):
    code = "platform_not_supported"


class ShopHostNotAllowed(ShopError):
    code = "host_not_allowed"
    default_message = _("This installation may not call that shop's host (CONNECTOR_SHOP_HOSTS).")


def _private_addresses(hostname: str) -> list[str]:
    """The addresses `hostname` resolves to that are not on the public internet."""
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(hostname, None)}
    except (socket.gaierror, UnicodeError):
        return []  # not resolvable: the client's own request fails with "shop unreachable"
    return sorted(address for address in resolved if not is_public_address(address))


def shop_host_check(shop_url: str) -> None:
    """Refuse a shop this installation must not call.

    A shop URL is typed by a tenant and called by the platform's workers: without this check a
    tenant could make them read the cloud's metadata service (169.254.169.254), the database or
    any service of the private network (server-side request forgery). Production refuses
    addresses that are not global (CONNECTOR_ALLOW_PRIVATE_HOSTS, off there; on in development,
    where the demo and the simulators serve on loopback). The check runs before every sync and
    connection test, so a name re-pointed to a private address later is refused then; and a name
    that answers differently to the connection itself (DNS rebinding) is refused by the client's
    connections (connectors.public_http)."""
    hostname = urlsplit(shop_url).hostname or ""
    # An installation may name the only hosts its connectors call (the test suite: loopback).
    allowed = getattr(settings, "CONNECTOR_SHOP_HOSTS", None)
    if allowed and hostname not in allowed:
        raise ShopHostNotAllowed()
    if not settings.CONNECTOR_ALLOW_PRIVATE_HOSTS and _private_addresses(hostname):
        raise ShopHostPrivate()


def shop_client_for(connection: ShopConnection, **options) -> ShopClient:
    shop_host_check(connection.shop_url)
    if connection.platform == Platform.MAGENTO:
        from connectors.magento.client import MagentoClient

        return MagentoClient(
            base_url=connection.shop_url,
            credentials=decrypt_credentials(connection.credentials_encrypted),
            use_bearer=connection.auth_method == ShopConnection.AuthMethod.BEARER,
            store_view_codes=connection.store_views,
            **options,
        )
    if connection.platform == Platform.PRESTASHOP:
        from connectors.prestashop.client import PrestaShopClient

        # The webservice key is kept as the credentials' access token.
        return PrestaShopClient(
            base_url=connection.shop_url,
            key=decrypt_credentials(connection.credentials_encrypted).access_token,
            shop_ids=[int(shop) for shop in connection.store_views if str(shop).isdigit()],
            fallback_time_zone=connection.account.timezone,
            **options,
        )
    raise PlatformNotSupported(f"{connection.get_platform_display()} is not supported yet.")
