"""Roles are Django groups; what each may do is a set of `config` capabilities.

The groups are created by a data migration (config 0002) that calls `sync_role_groups`;
a migration that changes ROLE_CAPABILITIES calls it again.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

OPERATOR = "operatore"
BACKOFFICE = "backoffice"
SUPERVISOR = "supervisore"
MANAGER = "manager"
ADMIN = "admin"

ROLE_LABELS = {
    OPERATOR: _("Operator"),
    BACKOFFICE: _("Back office"),
    SUPERVISOR: _("Supervisor"),
    MANAGER: _("Manager"),
    ADMIN: _("Administrator"),
}

ROLE_CAPABILITIES = {
    OPERATOR: {"handle_cases"},
    BACKOFFICE: {"handle_cases", "work_backoffice"},
    SUPERVISOR: {"handle_cases", "supervise", "view_reports"},
    MANAGER: {"view_reports", "export_reports", "manage_contracts"},
    ADMIN: {
        "handle_cases",
        "work_backoffice",
        "supervise",
        "view_reports",
        "export_reports",
        "manage_contracts",
        "view_unmasked_personal_data",
        "administer",
    },
}


# Model permissions admins need beside the capabilities: users, groups, lockouts, the
# telephone lines, and reading the access log and every contract and routing record the
# admin shows (its pages there are read-only: changes go through the services). API tokens
# are issued on the portal's own page (config.tokens), not in the admin.
# (app label, model or None = every model of the app, actions or None = every action)
ADMIN_MODEL_PERMISSIONS: list[tuple[str, str | None, list[str] | None]] = [
    ("auth", "user", None),
    ("auth", "group", None),
    ("axes", "accessattempt", None),
    ("axes", None, ["view"]),  # the sign-in and failure logs
    ("otp_totp", "totpdevice", ["view", "delete"]),  # delete: a lost phone enrols again
    ("config", "accesslog", ["view"]),
    ("config", "twofactorenrolmentlink", ["add", "view"]),
    ("contracts", None, ["view"]),
    ("routing", None, ["view"]),
    ("routing", "telephonyline", None),
]


def sync_role_groups(group_model, permission_model) -> None:
    """Create the role groups and give each exactly its permissions (idempotent).

    Takes the models as arguments so a migration can pass its historical ones.
    """
    for role, capabilities in ROLE_CAPABILITIES.items():
        group, _ = group_model.objects.get_or_create(name=role)
        permissions = permission_model.objects.filter(
            content_type__app_label="config", codename__in=capabilities
        )
        if role == ADMIN:
            for app_label, model, actions in ADMIN_MODEL_PERMISSIONS:
                of_model = permission_model.objects.filter(content_type__app_label=app_label)
                if model is not None:
                    of_model = of_model.filter(content_type__model=model)
                if actions is not None:
                    of_model = of_model.filter(
                        codename__regex=rf"^({'|'.join(actions)})_{model or '[a-z0-9_]+'}$"
                    )
                permissions = permissions | of_model
        group.permissions.set(permissions)


def roles_of(user) -> list[str]:
    if not user.is_authenticated:
        return []
    names = {group.name for group in user.groups.all()}
    return [role for role in ROLE_LABELS if role in names]


# Roles whose accounts reach every client's data or the configuration: they sign in with a
# second factor (TOTP) as well as the password.
SECOND_FACTOR_ROLES = {MANAGER, ADMIN}
# What only those roles may do: asked through the permission cache every page already loads.
SECOND_FACTOR_CAPABILITIES = set().union(
    *(ROLE_CAPABILITIES[role] for role in SECOND_FACTOR_ROLES)
) - set().union(
    *(caps for role, caps in ROLE_CAPABILITIES.items() if role not in SECOND_FACTOR_ROLES)
)


def needs_second_factor(user) -> bool:
    return user.is_authenticated and (
        user.is_superuser
        or any(user.has_perm(f"config.{name}") for name in SECOND_FACTOR_CAPABILITIES)
    )


def users_with(*capabilities: str) -> QuerySet:
    """Active users who hold any of `capabilities` through their role (or are superusers):
    rules name capabilities, never group names."""
    through_role = Q(
        groups__permissions__content_type__app_label="config",
        groups__permissions__codename__in=capabilities,
    )
    return (
        get_user_model()
        .objects.filter(through_role | Q(is_superuser=True), is_active=True)
        .distinct()
    )


def capabilities_of(user) -> set[str]:
    return {
        perm.split(".", 1)[1] for perm in user.get_all_permissions() if perm.startswith("config.")
    }
