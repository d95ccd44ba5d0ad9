"""The access log, for administrators to query: read-only, like every admin page here; and
the two-factor enrolment links administrators create (config.two_factor)."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from rest_framework.authtoken.models import TokenProxy

from config import two_factor
from config.models import AccessLog, TwoFactorEnrolmentLink

# The admin carries Presidio's name, in the reader's language.
admin.site.site_header = gettext_lazy("Presidio — Administration")
admin.site.site_title = gettext_lazy("Presidio — Administration")
admin.site.index_title = gettext_lazy("Administration")

# django-axes ships no Italian catalogue: its admin labels (model and field names, filters,
# fieldsets, actions; axes/models.py and axes/admin.py) are translated in ours. Listed here
# so that makemessages keeps them; the msgids must match django-axes' own, letter for letter.
AXES_LABELS = [
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("Access Attempt"),
    gettext_noop("Access lock out"),
    gettext_noop("Attempt Remaining"),
    gettext_noop("Attempt Time"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Expires At"),
    gettext_noop("Failed Logins"),
    gettext_noop("Form Data"),
    gettext_noop("GET Data"),
    gettext_noop("HTTP Accept"),
    gettext_noop("IP Address"),
    gettext_noop("Locked Out"),
    gettext_noop("Logout Time"),
    gettext_noop("Meta Data"),
    gettext_noop("Not set"),
    gettext_noop("Path"),
    gettext_noop("POST Data"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("User Agent"),
    gettext_noop("Username"),
]


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "action", "target_label", "outcome", "status_code", "route"]
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

    @admin.display(description=gettext_lazy("what"), ordering="target")
    def target_label(self, entry: AccessLog) -> str:
        return entry.target_label


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


# API tokens are issued, listed and revoked on the portal's own page (config.tokens), with
# their scopes and expiry; DRF's plain-key token admin would bypass both.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
