"""The access log, for administrators to query: read-only, like every admin page here; and
the two-factor enrolment links administrators create (config.two_factor)."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext as _

from config import two_factor
from config.models import AccessLog, TwoFactorEnrolmentLink


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "action", "target", "outcome", "status_code", "route"]
    list_filter = ["action", "outcome", "route"]
    search_fields = ["username", "target", "purpose"]
    date_hierarchy = "at"
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page
    readonly_fields = [field.name for field in AccessLog._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TwoFactorEnrolmentLink)
class TwoFactorEnrolmentLinkAdmin(admin.ModelAdmin):
    """Adding one requires the user to enrol their authenticator app through it; the URL is
    shown once, here, to be sent to the user (it is not stored: only its signature proves it).
    """

    list_display = ["user", "created_by", "created_at", "expires_at", "used_at"]
    list_select_related = ["user", "created_by"]
    fields = ["user"]
    raw_id_fields = ["user"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        link, url = two_factor.create_enrolment_link(
            actor=request.user, user=obj.user, now=timezone.now()
        )
        for field in ("id", "created_by_id", "created_at", "expires_at"):  # the admin's log
            setattr(obj, field, getattr(link, field))
        self.message_user(
            request,
            _(
                "Send this one-time link to %(user)s: %(url)s (valid for 24 hours, once). "
                "Until they use it, they cannot set up the app on first sign-in."
            )
            % {"user": obj.user.get_username(), "url": request.build_absolute_uri(url)},
            messages.WARNING,
        )
