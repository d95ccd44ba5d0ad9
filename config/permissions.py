"""API permissions expressed as the portal's capabilities (config.roles)."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission


def capability(*codenames: str, read: tuple[str, ...] | None = None) -> type[BasePermission]:
    """Allow users holding any of `codenames`; reads may name a wider set in `read`."""

    class HasCapability(BasePermission):
        message = _("You do not have permission for this operation.")  # in the caller's language

        def has_permission(self, request, view) -> bool:
            user = request.user
            if not (user and user.is_authenticated):
                return False
            needed = read if (read is not None and request.method in SAFE_METHODS) else codenames
            return any(user.has_perm(f"config.{name}") for name in needed)

    HasCapability.__name__ = f"HasCapability_{'_'.join(codenames)}"
    return HasCapability


ANY_ROLE = ("handle_cases", "work_backoffice", "supervise", "view_reports", "manage_contracts")


def capability_required(*codenames: str):
    """HTML views: 403 unless the user holds one of the capabilities (login is already
    required everywhere by LoginRequiredMiddleware)."""
    from functools import wraps

    from django.core.exceptions import PermissionDenied

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not any(request.user.has_perm(f"config.{name}") for name in codenames):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
