from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = _("Newsletters")

    def ready(self):
        # receivers connects the anymail tracking receiver.
        from newsletter.archive import page_cache
        from newsletter.tracking import receivers  # noqa: F401

        page_cache.connect_invalidation(self)
