import functools

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse

from staff import two_factor


class TwoFactorMiddleware:
    """Hold the whole admin (its own pages too, such as the outbox) to two-factor sign-in.

    A staff user with a device who signed in without a code goes back to the sign-in page;
    one the site requires to use two-factor but who has no device goes to the setup page
    first. Pages outside /admin/ are not looked at (and the user is not even loaded).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.redirect_for(request) or self.get_response(request)

    def redirect_for(self, request):
        if not request.path.startswith(admin_prefix()):
            return None
        user = request.user
        if not (user.is_authenticated and user.is_staff) or request.path in open_paths():
            return None
        if two_factor.needs_code(user):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if two_factor.needs_setup(user):
            return redirect("admin:staff_two_factor")
        return None


@functools.cache
def admin_prefix():
    """Where the admin lives; looked up once, as this runs on every request of the site."""
    return reverse("admin:index")


def open_paths():
    """Admin pages a user may see before the second factor: sign in, sign out, set it up."""
    names = ("admin:login", "admin:logout", "admin:staff_two_factor", "admin:jsi18n")
    return {reverse(name) for name in names}
