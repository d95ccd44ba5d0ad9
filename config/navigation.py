"""The main navigation: each entry shows only to users holding its capability."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: Promise
    url_name: str
    permission: str | None = None  # e.g. "config.view_reports"; None = every signed-in user
    staff_only: bool = False


ITEMS = [
    NavItem(_("Home"), "home"),
    NavItem(_("API"), "api-docs"),
    NavItem(_("Administration"), "admin:index", permission="config.administer", staff_only=True),
]


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for item in ITEMS:
        if item.permission and not user.has_perm(item.permission):
            continue
        if item.staff_only and not user.is_staff:
            continue
        url = reverse(item.url_name)
        items.append(
            {
                "label": item.label,
                "url": url,
                "active": request.path == url or (url != "/" and request.path.startswith(url)),
            }
        )
    return {"nav_items": items}
