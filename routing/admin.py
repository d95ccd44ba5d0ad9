from django.contrib import admin

from routing.models import (
    Assignment,
    Certification,
    OperatorProfile,
    Queue,
    QueueEvent,
    Site,
    TelephonyLine,
)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "province"]


class CertificationInline(admin.TabularInline):
    model = Certification
    extra = 0
    raw_id_fields = ["client", "contract"]


@admin.register(OperatorProfile)
class OperatorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "site", "capacity", "backoffice_share", "presence"]
    list_filter = ["site", "presence"]
    readonly_fields = ["presence", "presence_since"]  # changed through set_presence only
    inlines = [CertificationInline]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "segment", "service", "client", "emergency_until"]
    # Emergencies are switched by set_emergency, which audits them.
    readonly_fields = ["emergency_until", "emergency_reason"]


@admin.register(QueueEvent)
class QueueEventAdmin(admin.ModelAdmin):
    list_display = ["queue", "kind", "actor", "at", "until"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(QueueEventAdmin):
    list_display = ["case", "operator", "queue_code", "kind", "level", "assigned_by", "at"]
    list_filter = ["kind", "level"]


@admin.register(TelephonyLine)
class TelephonyLineAdmin(admin.ModelAdmin):
    """The PBX's numbers and the queue each one's calls wait in (README, *Calls*)."""

    list_display = ["number", "name", "queue"]
    list_select_related = ["queue"]
    search_fields = ["number", "name"]
