from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    """The people who run a Rundbrief site: their roles, sign-in protection and two-factor."""

    name = "staff"
    verbose_name = _("Staff")
