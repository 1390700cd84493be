"""Owners may add a reader by hand (subscribers.add_subscriber), as staff/roles.py says."""

from django.db import migrations

from staff.roles import sync_roles


def grant(apps, schema_editor):
    sync_roles(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("staff", "0001_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
