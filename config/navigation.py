"""The main navigation: each entry shows only to users holding one of its capabilities."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from config.permissions import ANY_ROLE


@dataclass(frozen=True)
class NavItem:
    label: Promise
    url_name: str
    capabilities: tuple[str, ...] = ()  # any of them; empty = every signed-in user
    staff_only: bool = False


ITEMS = [
    NavItem(_("Home"), "home"),
    NavItem(_("My workstation"), "routing:workspace", ("handle_cases",)),
    NavItem(_("New case"), "care:intake", ("handle_cases",)),
    NavItem(_("My cases"), "care:my-cases", ("handle_cases",)),
    NavItem(_("Cases"), "care:case-list", ("handle_cases", "supervise")),
    NavItem(_("Callbacks"), "routing:callbacks", ("handle_cases",)),
    NavItem(_("E-mail"), "care:mail-triage", ("handle_cases",)),
    NavItem(_("Saved replies"), "care:reply-list", ("handle_cases", "supervise")),
    NavItem(_("My presence"), "routing:presence-history", ("handle_cases",)),
    NavItem(_("Supervisor console"), "routing:console", ("supervise",)),
    NavItem(_("People"), "routing:people", ("administer", "supervise")),
    NavItem(_("Who is signed in"), "routing:presence-board", ("supervise",)),
    NavItem(_("Sites"), "routing:site-list", ("administer", "supervise")),
    NavItem(_("Queues"), "routing:queue-list", ("administer", "manage_contracts", "supervise")),
    NavItem(
        _("Knowledge base"), "care:article-list", ("handle_cases", "supervise", "manage_contracts")
    ),
    NavItem(_("Major incidents"), "care:incident-list", ("supervise", "manage_contracts")),
    NavItem(_("Wallboard"), "routing:wallboard", ("supervise", "view_reports")),
    NavItem(_("Back-office"), "backoffice:workspace", ("work_backoffice",)),
    NavItem(_("Caller lookup"), "contracts:lookup", ("handle_cases", "work_backoffice")),
    NavItem(_("Contracts"), "contracts:contract-list", ANY_ROLE),
    NavItem(_("Clients"), "contracts:client-list", ("manage_contracts",)),
    NavItem(_("Calendars"), "contracts:calendar-list", ("manage_contracts",)),
    NavItem(
        _("Import end users"), "contracts:end-user-import", ("manage_contracts", "work_backoffice")
    ),
    NavItem(_("Reports"), "reports:dashboard", ("view_reports",)),
    NavItem(_("Configuration changes"), "reports:change-list", ("administer", "manage_contracts")),
    NavItem(_("Data retention"), "care:retention", ("manage_contracts",)),
    NavItem(_("Data-subject requests"), "care:subject-search", ("administer",)),
    NavItem(_("API"), "api-docs"),
    NavItem(_("API tokens"), "token-list", ("administer",)),
    NavItem(_("Administration"), "admin:index", ("administer",), staff_only=True),
]


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [
        {"label": item.label, "url": reverse(item.url_name)}
        for item in ITEMS
        if (not item.capabilities or any(user.has_perm(f"config.{c}") for c in item.capabilities))
        and (user.is_staff or not item.staff_only)
    ]
    # The entry whose address is the longest prefix of this page's is the current one.
    current = max(
        (i for i in items if request.path.startswith(i["url"])),
        key=lambda i: len(i["url"]),
        default=None,
    )
    for item in items:
        item["active"] = item is current
    return {"nav_items": items}
