"""Give the staff roles the permissions for representatives (issue 15 item 4)."""

from django.db import migrations


def roles_update(apps, schema_editor):
    from accounts.roles import roles_sync

    roles_sync(apps=apps, using=schema_editor.connection.alias, missing_ok=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_representative"),
    ]

    operations = [
        migrations.RunPython(roles_update, migrations.RunPython.noop, elidable=False),
    ]
