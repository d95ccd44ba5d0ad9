"""Read-only admin views: every change goes through the manager pages or the API, which
call the services (validation and audit trail in one place)."""

from django.contrib import admin

from contracts.models import (
    AuditEvent,
    BusinessCalendar,
    Client,
    ClosureDay,
    Contract,
    ContractOrder,
    ContractVersion,
    EndUser,
    EndUserPhone,
    LoyaltyAction,
    LoyaltyItem,
    OpeningInterval,
    OrderEvent,
    OrderLine,
    Referent,
    SlaTarget,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReferentInline(ReadOnlyMixin, admin.TabularInline):
    model = Referent
    extra = 0


@admin.register(Client)
class ClientAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "segment", "vat_number", "province", "is_active"]
    list_filter = ["segment", "is_active"]
    search_fields = ["name", "vat_number"]
    inlines = [ReferentInline]


class OpeningIntervalInline(ReadOnlyMixin, admin.TabularInline):
    model = OpeningInterval
    extra = 0


class ClosureDayInline(ReadOnlyMixin, admin.TabularInline):
    model = ClosureDay
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "province", "timezone", "always_open"]
    inlines = [OpeningIntervalInline, ClosureDayInline]


class ContractVersionInline(ReadOnlyMixin, admin.TabularInline):
    model = ContractVersion
    fields = ["number", "effective_from", "effective_to", "at_risk_share", "change_summary"]
    extra = 0


@admin.register(Contract)
class ContractAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["code", "client", "status", "valid_from", "valid_to"]
    list_filter = ["status", "client__segment"]
    search_fields = ["code", "client__name"]
    list_select_related = ["client"]
    inlines = [ContractVersionInline]


class SlaTargetInline(ReadOnlyMixin, admin.TabularInline):
    model = SlaTarget
    extra = 0


@admin.register(ContractVersion)
class ContractVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["contract", "number", "effective_from", "effective_to"]
    list_select_related = ["contract"]
    inlines = [SlaTargetInline]


class EndUserPhoneInline(ReadOnlyMixin, admin.TabularInline):
    model = EndUserPhone
    fields = ["number"]
    extra = 0


@admin.register(EndUser)
class EndUserAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["last_name", "first_name", "client", "employee_code", "is_active"]
    list_filter = ["client"]
    search_fields = ["last_name", "employee_code"]
    list_select_related = ["client"]
    inlines = [EndUserPhoneInline]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["at", "kind", "actor", "summary"]
    list_filter = ["kind"]
    list_select_related = ["actor"]


# --- Contract orders and loyalty (read-only: the back-office pages and API write) ----------


class OrderLineInline(ReadOnlyMixin, admin.TabularInline):
    model = OrderLine
    extra = 0


class OrderEventInline(ReadOnlyMixin, admin.TabularInline):
    model = OrderEvent
    fields = ["at", "kind", "from_state", "to_state", "actor", "detail"]
    extra = 0


@admin.register(ContractOrder)
class ContractOrderAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["reference", "kind", "client", "state", "state_due_at", "is_late", "owner"]
    list_filter = ["kind", "state", "is_late"]
    search_fields = ["reference", "client__name", "contract__code", "case_reference"]
    list_select_related = ["client", "owner"]
    inlines = [OrderLineInline, OrderEventInline]


class LoyaltyActionInline(ReadOnlyMixin, admin.TabularInline):
    model = LoyaltyAction
    extra = 0


@admin.register(LoyaltyItem)
class LoyaltyItemAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["contract", "client", "valid_to", "owner", "outcome", "renewal_order"]
    list_filter = ["outcome"]
    list_select_related = ["contract", "client", "owner", "renewal_order"]
    inlines = [LoyaltyActionInline]
