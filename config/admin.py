"""The access log, for administrators to query: read-only, like every admin page here."""

from django.contrib import admin

from config.models import AccessLog


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
