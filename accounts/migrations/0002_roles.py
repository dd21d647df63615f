"""Create one group per role, holding exactly that role's permissions."""

from django.db import migrations


def create_role_groups(apps, schema_editor):
    from accounts.roles import roles_sync

    # Models added by later migrations get their permissions when roles_sync runs again.
    roles_sync(apps=apps, using=schema_editor.connection.alias, missing_ok=True)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("complaints", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_role_groups, migrations.RunPython.noop, elidable=False),
    ]
