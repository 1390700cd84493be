from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """Django's admin, served by the site that knows about two-factor sign-in."""

    default_site = "staff.admin_site.StaffAdminSite"
