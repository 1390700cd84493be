"""The admin site: Django's, with the two-factor sign-in form and the setup page."""

from django.contrib import admin
from django.urls import path

from staff import two_factor, views
from staff.login import StaffAuthenticationForm


class StaffAdminSite(admin.AdminSite):
    login_form = StaffAuthenticationForm
    # The product's name, not Django's, in every admin page's header and title.
    site_header = "Rundbrief"
    site_title = "Rundbrief"
    index_title = "Rundbrief"

    def has_permission(self, request):
        # A session signed in with the password alone does not count for a user with a
        # device: the login page then asks again, with the code.
        return super().has_permission(request) and not two_factor.needs_code(request.user)

    def get_urls(self):
        return [
            path(
                "two-factor/",
                self.admin_view(views.two_factor_setup),
                name="staff_two_factor",
            ),
            path(
                "two-factor/off/",
                self.admin_view(views.two_factor_off),
                name="staff_two_factor_off",
            ),
            *super().get_urls(),
        ]
