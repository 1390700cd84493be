"""The staff roles as groups: Owner, Author and Editor (see staff/roles.py)."""

from django.db import migrations

from staff.roles import sync_roles


def create_roles(apps, schema_editor):
    sync_roles(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("newsletter", "0005_send_and_outbox_permissions"),
        ("subscribers", "0004_subscriber_permissions"),
    ]

    # Going back keeps the groups: staff may already be members of them.
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
