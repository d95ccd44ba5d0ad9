"""Roles are Django groups; what each may do is a set of `config` capabilities.

The groups and their permissions are created by a data migration (config 0002), which keeps
its own frozen copy of ROLE_CAPABILITIES; later migrations extend it.
"""

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


def roles_of(user) -> list[str]:
    if not user.is_authenticated:
        return []
    names = {group.name for group in user.groups.all()}
    return [role for role in ROLE_LABELS if role in names]


def capabilities_of(user) -> set[str]:
    return {
        perm.split(".", 1)[1] for perm in user.get_all_permissions() if perm.startswith("config.")
    }
