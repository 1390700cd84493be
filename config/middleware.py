from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """Send a strict Content-Security-Policy on every response.

    Pages never use inline script or style, so the policy allows neither. A view that
    must differ (the embeddable form's endpoint, the admin preview frame) sets
    `response["Content-Security-Policy"]` itself and is left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        return response
