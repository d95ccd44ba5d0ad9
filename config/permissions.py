"""API permissions expressed as the portal's capabilities (config.roles)."""

from django.contrib.auth.models import Permission
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission


class PermissionsInOneQuery:
    """Reads a user's permissions, their own and their groups', in one query, where Django's
    ModelBackend reads them in two, and keeps them where ModelBackend looks first
    (`_perm_cache`): the first capability asked in a request costs one query, the next ones
    none. Listed just before ModelBackend, which still signs people in and answers for
    superusers; it grants nothing ModelBackend would not. No `get_user`: sessions stay
    ModelBackend's."""

    def authenticate(self, request, **credentials) -> None:
        return None  # signs no one in

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return set()
        if user_obj.is_superuser:  # every permission: ModelBackend's own answer
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            fields = ("content_type__app_label", "codename")
            own = Permission.objects.filter(user=user_obj).values_list(*fields).order_by()
            grouped = (
                Permission.objects.filter(group__user=user_obj).values_list(*fields).order_by()
            )
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in own.union(grouped)}
        return user_obj._perm_cache


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
