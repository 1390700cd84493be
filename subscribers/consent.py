"""What a subscription's consent evidence keeps of the request that gave it."""

import ipaddress

from django.conf import settings

from config.net import client_ip

# Enough to tell a browser from a link checker; a header can be any length.
USER_AGENT_MAX_LENGTH = 255


def consent_ip(ip):
    """The IP address to keep as consent evidence, per settings.CONSENT_IP_MODE."""
    mode = settings.CONSENT_IP_MODE
    if not ip or mode == "drop":
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if mode == "store":
        return str(address)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def request_evidence(request):
    """The user agent (shortened) and the IP (as CONSENT_IP_MODE says) of a consenting request."""
    user_agent = request.headers.get("User-Agent", "")[:USER_AGENT_MAX_LENGTH]
    return {"user_agent": user_agent, "ip": consent_ip(client_ip(request))}
