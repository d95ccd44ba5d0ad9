"""Administrators open every admin page README.md sends them to: API tokens (DRF's proxy
model), telephone lines, and the read-only contract and routing pages (#19 point 19)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from config.roles import sync_role_groups


def sync_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the admin role needs them now.
    for label in ("authtoken", "axes", "otp_totp", "contracts", "routing"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0006_two_factor_enrolment_links"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("contracts", "0004_mail_settings"),
        ("routing", "0006_calls"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
