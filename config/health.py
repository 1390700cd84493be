"""The health check for the probe inside the container, whatever Host it sends.

Compose's health check calls http://127.0.0.1:8000/healthz from inside the web container,
so its Host is 127.0.0.1, which ALLOWED_HOSTS (the public name) rightly refuses. This
middleware answers exactly that path for a loopback peer before any host check; every
other request, and /healthz from anywhere else, goes through the host check as usual.
Behind Docker's port mapping a reverse proxy's requests come from the bridge gateway,
never from loopback.
"""

import ipaddress

from config.views import healthz

HEALTH_PATH = "/healthz"


def is_loopback(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


class LoopbackHealthMiddleware:
    """Answer /healthz from 127.0.0.1 or ::1 without looking at the Host header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTH_PATH and is_loopback(request.META.get("REMOTE_ADDR", "")):
            return healthz(request)
        return self.get_response(request)
