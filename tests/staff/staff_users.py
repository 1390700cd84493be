"""Staff accounts for tests: a role or a few permissions, and a client that posts to the
admin with a CSRF token, as the admin's own forms do."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client

from staff.roles import permissions_named, sync_roles

PASSWORD = "pass-phrase-1"


def make_staff(username, *, role=None, permissions=()):
    """A staff user (not a superuser) in `role`'s group and/or with the named permissions."""
    user = get_user_model().objects.create_user(
        username, f"{username}@example.org", PASSWORD, is_staff=True
    )
    if role is not None:
        sync_roles()  # the groups may be gone: flushed by an earlier transactional test
        user.groups.add(Group.objects.get(name=role))
    user.user_permissions.add(*permissions_named(Permission, permissions))
    return user


class StaffClient(Client):
    """Signed in as `user`, with CSRF checks on; `submit` posts like an admin form."""

    def __init__(self, user):
        super().__init__(enforce_csrf_checks=True)
        self.force_login(user)

    def submit(self, url, data=None, **extra):
        if "csrftoken" not in self.cookies:
            self.get("/admin/")  # every admin page carries the token (the logout form)
        token = self.cookies["csrftoken"].value
        return self.post(url, {**(data or {}), "csrfmiddlewaretoken": token}, **extra)
