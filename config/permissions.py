"""API permissions expressed as the portal's capabilities (config.roles)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import F, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from config.db import JSONRows


class PermissionsInOneQuery(ModelBackend):
    """Django's ModelBackend (it signs people in and answers for superusers) with the
    permissions read with the user: the session's user and their permissions, their own and
    their groups', in one query per request, where ModelBackend reads the user and then the
    permissions in two more. Kept where ModelBackend looks first (`_perm_cache`); it grants
    nothing ModelBackend would not. A user read another way (`User.objects.get`) costs one
    query at the first capability asked, the next ones none."""

    def get_user(self, user_id):
        user = (
            get_user_model()
            ._default_manager.annotate(
                permission_rows=JSONRows(_permissions_of(OuterRef("id")), "app", "codename")
            )
            .filter(pk=user_id)
            .first()
        )
        if user is None or not self.user_can_authenticate(user):
            return None
        if user.is_active and not user.is_superuser:
            user._perm_cache = {f"{row['app']}.{row['codename']}" for row in user.permission_rows}
        return user

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return set()
        if user_obj.is_superuser:  # every permission: ModelBackend's own answer
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            fields = ("content_type__app_label", "codename")
            own = Permission.objects.filter(user=user_obj).values_list(*fields).order_by()
            grouped = (
                Permission.objects.filter(group__user=user_obj).values_list(*fields).order_by()
            )
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in own.union(grouped)}
        return user_obj._perm_cache


def _permissions_of(user_id):
    """A user's permissions, their own and their groups' (`user_id`: an `OuterRef`)."""
    return (
        Permission.objects.filter(Q(user=user_id) | Q(group__user=user_id))
        .annotate(app=F("content_type__app_label"))
        .distinct()
        .order_by()
    )


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
