"""HTTP to shops that only ever reaches public addresses, checked on the connected socket.

connectors.platforms.shop_host_check resolves the shop's name before a run and refuses private
addresses; but the name is resolved again when the client connects, and a tenant controlling
its DNS can answer a public address to the check and 127.0.0.1 or 169.254.169.254 to the
connection a moment later (DNS rebinding). So the address the socket actually connected to is
checked too, before anything is sent on it: urllib3's connections, as requests pools them,
with one check added after connect.

Requests sent through an HTTP proxy (the operator's, from the environment) are not checked
here: the proxy resolves and connects, and is where such a policy belongs then.
"""

import ipaddress

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class PrivatePeer(Exception):
    """The shop's name led the connection to an address that is not on the public internet.
    Not an OSError, so that urllib3 and requests neither retry nor rewrap it."""

    def __init__(self, address: str):
        super().__init__(address)
        self.address = address


def is_public_address(address: str) -> bool:
    """An IP address (an IPv6 one may carry a %zone) on the public internet."""
    return ipaddress.ip_address(address.split("%", 1)[0]).is_global


def _refuse_private_peer(sock) -> None:
    address = sock.getpeername()[0]
    if not is_public_address(address):
        sock.close()
        raise PrivatePeer(address)


class _PublicHTTPConnection(HTTPConnection):
    def _new_conn(self):
        sock = super()._new_conn()
        _refuse_private_peer(sock)
        return sock


class _PublicHTTPSConnection(HTTPSConnection):
    # TLS is set up on the socket _new_conn returns: the check comes before the handshake.
    def _new_conn(self):
        sock = super()._new_conn()
        _refuse_private_peer(sock)
        return sock


class _PublicHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PublicHTTPConnectionPool,
            "https": _PublicHTTPSConnectionPool,
        }


def public_only_session() -> requests.Session:
    session = requests.Session()
    adapter = PublicOnlyAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
