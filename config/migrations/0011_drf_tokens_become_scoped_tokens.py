"""Every DRF token (rest_framework.authtoken: one key per user, no scope, no expiry) becomes
a scoped API token named "migrated", with every scope of the day and a year of validity: the
same secret keeps working (only its SHA-256 is kept), and the plain keys are deleted. The
admin role loses the DRF token pages (tokens are issued on the portal's page).

`rest_framework.authtoken` stays installed only because earlier migrations depend on it.
"""

import hashlib
from datetime import timedelta

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.utils import timezone

from config.roles import sync_role_groups

# The scope catalogue when this migration was written (config.tokens.SCOPES).
ALL_SCOPES = [
    "account",
    "lookup",
    "cases:read",
    "cases:write",
    "notifications",
    "knowledge:read",
    "knowledge:write",
    "incidents:read",
    "incidents:write",
    "contracts:read",
    "contracts:write",
    "end-users:read",
    "end-users:write",
    "orders:read",
    "orders:write",
    "routing:read",
    "routing:write",
    "telephony",
    "mail",
    "reports",
    "tokens",
    "sessions",
]


def convert(apps, schema_editor):
    drf_token = apps.get_model("authtoken", "Token")
    api_token = apps.get_model("config", "ApiToken")
    now = timezone.now()
    for old in drf_token.objects.order_by("pk"):
        api_token.objects.create(
            name="migrated",
            owner_id=old.user_id,
            scopes=ALL_SCOPES,
            key_hash=hashlib.sha256(old.key.encode()).hexdigest(),
            prefix=old.key[:8],
            created_at=old.created or now,
            expires_at=now + timedelta(days=365),
        )
    drf_token.objects.all().delete()


def sync_roles(apps, schema_editor):
    for label in ("config", "authtoken"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0010_api_tokens_and_sessions"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [
        migrations.RunPython(convert, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
