"""Administrators query the access log in the admin: give the admin group its permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from config.roles import sync_role_groups


def sync_roles(apps, schema_editor):
    app_config = apps.get_app_config("config")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    sync_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [("config", "0003_access_log")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
