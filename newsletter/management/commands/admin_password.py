"""`make admin-password`: a new password for a lost admin login, printed once."""

import secrets

from axes.utils import reset as reset_lockouts
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from config.site import absolute_reverse


class Command(BaseCommand):
    help = (
        "Give the admin user (or --username) a new random password and print it; creates "
        "the superuser when there is none, and lifts a sign-in lockout of that user name."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        users = get_user_model().objects
        password = secrets.token_urlsafe(12)
        user = users.filter(username=username).first()
        if user is None:
            if username != "admin" and users.exists():
                raise CommandError(f"There is no user “{username}”.")
            users.create_superuser(username, f"{username}@{settings.MAIL_DOMAIN}", password)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        # Lost passwords come with failed sign-ins; the lockout would refuse the new one.
        reset_lockouts(username=username)
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin login: {absolute_reverse('admin:index')}  user: {username}  "
                f"password: {password}"
            )
        )
