"""The subscribers app; importing its checks registers them with Django."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from subscribers import checks  # noqa: F401 - registers the deploy checks


class SubscribersConfig(AppConfig):
    name = "subscribers"
    verbose_name = _("Subscribers")
