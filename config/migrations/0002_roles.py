"""Create the five role groups with their capabilities (and, for admin, user management)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_CAPABILITIES = {
    "operatore": ["handle_cases"],
    "backoffice": ["handle_cases", "work_backoffice"],
    "supervisore": ["handle_cases", "supervise", "view_reports"],
    "manager": ["view_reports", "export_reports", "manage_contracts"],
    "admin": [
        "handle_cases", "work_backoffice", "supervise", "view_reports", "export_reports",
        "manage_contracts", "view_unmasked_personal_data", "administer",
    ],
}
ADMIN_MODEL_PERMISSIONS = [
    ("auth", "user"), ("auth", "group"), ("authtoken", "token"), ("axes", "accessattempt"),
]


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; roles need them now.
    for label in ("config", "auth", "authtoken", "axes"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_CAPABILITIES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="config", codename__in=codenames)
        )
    admin = Group.objects.get(name="admin")
    for app_label, model in ADMIN_MODEL_PERMISSIONS:
        admin.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label,
                                       content_type__model=model)
        )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_CAPABILITIES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("config", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("axes", "0009_add_session_hash"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
