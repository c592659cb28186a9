"""Who opened or clicked: device kind and mail client from the user agent (ua-parser, the
maintained uap-core rules with a Rust matcher), and whether it was a person or a machine.

Machines open and click too: Apple Mail Privacy Protection fetches every image of every message
through Apple's proxies, security gateways follow every link before delivery. Their events are
kept and reported apart, never counted in open or click rates.
"""

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from ua_parser import parse

# Security gateways and link scanners that announce themselves.
SCANNER_MARKERS = (
    "barracuda", "mimecast", "proofpoint", "ironport", "fortiguard", "trendmicro", "symantec",
    "messagelabs", "safelinks", "bitdefender", "sophos", "zscaler", "forcepoint", "cloudmark",
    "python-requests", "python-urllib", "curl/", "wget/", "go-http-client", "java/", "okhttp",
    "headlesschrome", "phantomjs", "bot", "crawler", "spider", "preview",
)  # fmt: skip
# Apple's proxies fetch with this bare user agent, from Apple's network (17.0.0.0/8).
APPLE_PROXY_AGENT = "Mozilla/5.0"
APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")
CLIENT_NAMES = {
    "GmailImageProxy": "Gmail",
    "YahooMailProxy": "Yahoo Mail",
    "Outlook": "Outlook",
    "Apple Mail": "Apple Mail",
    "Thunderbird": "Thunderbird",
}


@dataclass(frozen=True)
class Agent:
    device: str  # desktop, mobile, tablet, other
    client: str
    os: str
    is_scanner: bool


@lru_cache(maxsize=4096)
def describe(user_agent: str) -> Agent:
    """Device, client and OS of a user agent (cached: a campaign sees few distinct ones)."""
    lowered = user_agent.lower()
    result = parse(user_agent)
    family = result.user_agent.family if result.user_agent else ""
    os_family = result.os.family if result.os else ""
    device_family = result.device.family if result.device else ""
    is_scanner = not user_agent.strip() or device_family == "Spider"
    is_scanner = is_scanner or any(marker in lowered for marker in SCANNER_MARKERS)
    if family in ("GmailImageProxy", "YahooMailProxy"):
        is_scanner = False  # webmail image proxies fetch when the person opens the message
    client = CLIENT_NAMES.get(family, family or "Other")
    if family.startswith("Mobile Safari UI/WKWebView") and os_family == "iOS":
        client = "Apple Mail"  # the iOS Mail app renders with WKWebView
    if family in ("GmailImageProxy", "YahooMailProxy"):
        device, os_family = "other", ""  # the proxy hides the person's device
    elif device_family == "iPad" or "tablet" in lowered:
        device = "tablet"
    elif os_family in ("iOS", "Android") or "mobile" in lowered:
        device = "mobile"
    elif os_family in ("Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora"):
        device = "desktop"
    else:
        device = "other"
    return Agent(
        device=device, client=client[:60], os=(os_family or "Other")[:60], is_scanner=is_scanner
    )


def is_apple_privacy_proxy(user_agent: str, ip_address: str | None) -> bool:
    if user_agent.strip() == APPLE_PROXY_AGENT:
        return True
    if not ip_address:
        return False
    try:
        return ipaddress.ip_address(ip_address) in APPLE_NETWORK and "Mozilla" in user_agent
    except ValueError:
        return False


def machine_reason(
    *,
    user_agent: str,
    ip_address: str | None,
    method: str,
    seconds_after_send: float | None,
    too_fast_seconds: float,
) -> str:
    """'' for a person, else why the event is a machine's (EmailEvent.MachineReason)."""
    if method.upper() == "HEAD":
        return "head_request"
    if is_apple_privacy_proxy(user_agent, ip_address):
        return "privacy_proxy"
    if describe(user_agent).is_scanner:
        return "scanner"
    if seconds_after_send is not None and seconds_after_send < too_fast_seconds:
        return "too_fast"
    return ""
