"""The role groups come from a data migration that works on a fresh database."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from staff.roles import AUTHOR, EDITOR, OWNER, ROLES, sync_roles

# Created only by this project's models (Meta.permissions), after migrating as a rule.
OWN_PERMISSIONS = ("send_issue", "view_outbox", "export_subscriber", "import_subscriber")


def codenames(group):
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


@pytest.mark.django_db(transaction=True)
def test_migrating_creates_the_groups_even_before_permissions_exist():
    call_command("migrate", "staff", "zero", verbosity=0)
    Group.objects.all().delete()
    # As on a fresh database: post_migrate has not created these yet.
    Permission.objects.filter(codename__in=OWN_PERMISSIONS).delete()

    call_command("migrate", "staff", verbosity=0)

    groups = {group.name: codenames(group) for group in Group.objects.all()}
    assert groups == {name: set(names) for name, names in ROLES.items()}
    assert "newsletter.send_issue" in groups[AUTHOR]
    assert "newsletter.send_issue" not in groups[EDITOR]
    assert "subscribers.delete_subscriber" in groups[OWNER]


@pytest.mark.django_db
def test_syncing_again_changes_nothing_and_keeps_what_was_added_by_hand():
    sync_roles()
    editor = Group.objects.get(name=EDITOR)
    extra = Permission.objects.get(codename="view_delivery")
    editor.permissions.add(extra)
    before = Permission.objects.count()

    sync_roles()

    assert Group.objects.filter(name__in=ROLES).count() == 3
    assert codenames(editor) == {*ROLES[EDITOR], "newsletter.view_delivery"}
    assert Permission.objects.count() == before


def test_each_role_holds_every_permission_of_the_one_below():
    assert set(ROLES[EDITOR]) < set(ROLES[AUTHOR]) < set(ROLES[OWNER])
    assert set(ROLES[AUTHOR]) - set(ROLES[EDITOR]) == {"newsletter.send_issue"}
