from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = _("Newsletters")

    def ready(self):
        from newsletter import receivers  # noqa: F401 - connects the anymail tracking receiver
