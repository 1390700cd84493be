from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = _("Newsletters")

    def ready(self):
        from django.db.models.signals import post_delete, post_migrate, post_save

        # receivers connects the anymail tracking receiver.
        from newsletter.archive import page_cache
        from newsletter.tracking import receivers  # noqa: F401

        # Any saved or deleted newsletter or issue may change a public page.
        for model in (self.get_model("Newsletter"), self.get_model("Issue")):
            post_save.connect(page_cache.bump_archive_version, sender=model)
            post_delete.connect(page_cache.bump_archive_version, sender=model)
        # Data migrations and `flush` change rows without our querysets or signals.
        post_migrate.connect(page_cache.bump_archive_version, sender=self)
