"""Staff roles: which permissions each group of staff gets.

An editor writes issues; an author also sends them; an owner also manages readers (the
lists, imports, exports and erasure), the newsletters' settings and the staff accounts.
Each role holds every permission of the one before it. A superuser stands above all
roles. The groups are created by a data migration (staff/migrations/0001_roles.py); to
change a role later, edit the table here and add a migration that calls `sync_roles`.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS

EDITOR = "Editor"
AUTHOR = "Author"
OWNER = "Owner"

EDITOR_PERMISSIONS = (
    "newsletter.view_newsletter",
    "newsletter.view_issue",
    "newsletter.add_issue",
    "newsletter.change_issue",
    "newsletter.view_upload",
    "newsletter.add_upload",
)

# Sending covers send now, schedule, test mails, pause, resume, cancel and retry.
AUTHOR_PERMISSIONS = (*EDITOR_PERMISSIONS, "newsletter.send_issue")

OWNER_PERMISSIONS = (
    *AUTHOR_PERMISSIONS,
    # The newsletters themselves, and the sending ledger (it lists readers' addresses).
    "newsletter.add_newsletter",
    "newsletter.change_newsletter",
    "newsletter.delete_newsletter",
    "newsletter.delete_issue",
    "newsletter.change_upload",
    "newsletter.delete_upload",
    "newsletter.view_delivery",
    "newsletter.view_outbox",
    # Readers: lists, history, blocked addresses, imports, exports and erasure.
    "subscribers.view_subscriber",
    "subscribers.add_subscriber",
    "subscribers.change_subscriber",
    "subscribers.delete_subscriber",
    "subscribers.export_subscriber",
    "subscribers.import_subscriber",
    "subscribers.view_subscription",
    "subscribers.change_subscription",
    "subscribers.view_event",
    "subscribers.view_suppression",
    "subscribers.add_suppression",
    "subscribers.delete_suppression",
    "subscribers.view_importjob",
    "subscribers.add_importjob",
    "subscribers.delete_importjob",
    # Staff accounts and their roles, and the admin log (who did what to whom).
    "admin.view_logentry",
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.delete_user",
    "auth.view_group",
    "auth.add_group",
    "auth.change_group",
    "auth.delete_group",
)

ROLES = {
    OWNER: OWNER_PERMISSIONS,
    AUTHOR: AUTHOR_PERMISSIONS,
    EDITOR: EDITOR_PERMISSIONS,
}


def sync_roles(apps=global_apps, roles=None, using=DEFAULT_DB_ALIAS):
    """Create the role groups and grant their permissions; running it again changes nothing.

    Permissions are usually created after migrating (post_migrate), so on a fresh database
    they do not exist yet while migrations run: they are created here first. Permissions
    granted by hand to a group are kept.
    """
    roles = ROLES if roles is None else roles
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    labels = {name.split(".", 1)[0] for names in roles.values() for name in names}
    for label in sorted(labels):
        create_permissions(global_apps.get_app_config(label), verbosity=0, apps=apps, using=using)
    for name, permission_names in roles.items():
        group, _created = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*permissions_named(Permission, permission_names, using))


def permissions_named(Permission, names, using=DEFAULT_DB_ALIAS):
    """The Permission rows for "app_label.codename" names; a name that matches none is an error."""
    found = []
    for name in names:
        app_label, codename = name.split(".", 1)
        permission = (
            Permission.objects.using(using)
            .filter(content_type__app_label=app_label, codename=codename)
            .first()
        )
        if permission is None:
            raise LookupError(f"No permission {name}: is the role table out of date?")
        found.append(permission)
    return found
