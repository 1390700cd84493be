from django.conf import settings


def client_ip(request):
    """The reader's IP address, for rate limits and consent evidence.

    Behind TRUSTED_PROXY_COUNT reverse proxies, each proxy appends the address it saw to
    X-Forwarded-For, so the client is that many entries from the right; anything further
    left was written by the client and cannot be trusted.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "")
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]
