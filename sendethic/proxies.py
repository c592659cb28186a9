"""The client's address when the web service sits behind reverse proxies.

Behind a TLS-terminating proxy every request comes from the proxy's address: the login limits
(accounts/throttle.py, django-axes), consent proofs and click records would all see one IP, so
30 failed logins from anywhere would lock every customer out. Each trusted proxy appends the
address it saw to X-Forwarded-For, so with N trusted proxies the client is the N-th address from
the right; anything further left was written by the client and is not believed. Werkzeug's
ProxyFix does exactly that at the WSGI level, before Django and the tracking fast path, so every
reader of REMOTE_ADDR gets the client's address. With no trusted proxy (the default) the header
is ignored: trusting it then would let anyone pick the address they are throttled under.
"""

from werkzeug.middleware.proxy_fix import ProxyFix


def behind_trusted_proxies(application, count: int):
    """`application` reading the client's address through `count` trusted proxies (0: none)."""
    if count <= 0:
        return application
    return ProxyFix(application, x_for=count, x_proto=count)
