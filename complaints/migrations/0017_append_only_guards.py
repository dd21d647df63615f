"""Make the case history append-only on SQLite as well as PostgreSQL (0008), and refuse
DELETE of complaints on both (complaints.append_only)."""

from django.db import migrations


def guards_install(apps, schema_editor):
    from complaints.append_only import guards_install

    guards_install(schema_editor.connection)


def guards_drop(apps, schema_editor):
    from complaints.append_only import guards_drop

    guards_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0016_history_head"),
    ]

    operations = [
        migrations.RunPython(guards_install, guards_drop),
    ]
