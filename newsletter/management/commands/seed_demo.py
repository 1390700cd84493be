import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from newsletter.models import Newsletter

DEMO_BODY = """\
Hello {{ name | default: "there" }},

welcome to the first issue of the demo newsletter. Write issues in the admin,
preview them, send a test to yourself, then send them to your readers.
"""


class Command(BaseCommand):
    help = (
        "Development only (make run): create a demo newsletter and an admin login "
        "(idempotent); prints the login."
    )

    def handle(self, *args, **options):
        # It makes a superuser and prints its password: never on a production site.
        if not (settings.RUNDBRIEF_ENV == "development" or settings.DEBUG):
            raise CommandError(
                "seed_demo is for development only (make run sets RUNDBRIEF_ENV=development); "
                f"this is RUNDBRIEF_ENV={settings.RUNDBRIEF_ENV}. On a production site create "
                "your admin with: python manage.py createsuperuser"
            )
        newsletter, created = Newsletter.objects.get_or_create(
            slug="demo",
            defaults={
                "name": "Rundbrief Demo",
                "description": "A demo newsletter to try Rundbrief with.",
                "from_name": "Rundbrief Demo",
                "from_email": f"demo@{settings.MAIL_DOMAIN}",
            },
        )
        if created:
            self.stdout.write(f"Created the demo newsletter at {settings.SITE_URL}/demo/")
        self._ensure_admin()

    def _ensure_admin(self):
        users = get_user_model().objects
        password = secrets.token_urlsafe(12)
        user = users.filter(username="admin").first()
        if user is None:
            users.create_superuser("admin", f"admin@{settings.MAIL_DOMAIN}", password)
        elif not user.has_usable_password():
            user.set_password(password)
            user.save(update_fields=["password"])
        else:
            self.stdout.write(
                f"Admin login: {settings.SITE_URL}/admin/  user: admin  (password unchanged; "
                "reset it with `make admin-password`)"
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin login: {settings.SITE_URL}/admin/  user: admin  password: {password}"
            )
        )
