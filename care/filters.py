"""Case list filters, shared by the case pages and the API (reports have their own,
`reports.forms`)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from care.models import OPEN_STATUSES, Case, CaseStatus, SlaState
from care.search import TextHits, search_cases
from config import textsearch
from config.filters import IdFilter
from config.inputs import FilterForm
from contracts import selectors as contract_selectors
from contracts.models import Priority
from contracts.phones import InvalidPhoneNumber, normalise_phone

# Besides one state: the cases that need attention, either target at risk or breached (what
# the supervisor console counts as "SLA at risk" and links to).
AT_RISK_OR_BREACHED = "at_risk_or_breached"
SLA_FILTER_CHOICES = [*SlaState.choices, (AT_RISK_OR_BREACHED, _("At risk or breached"))]


class CaseAttributeFilter(django_filters.FilterSet):
    """Filters on what a case is (status, priority, client, dates...): nothing personal, so
    they may travel in a URL (`GET /api/v1/cases/`, bookmarks, pagination)."""

    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=CaseStatus.choices)
    open = django_filters.BooleanFilter(label=_("Open only"), method="only_open")
    priority = django_filters.MultipleChoiceFilter(label=_("Priority"), choices=Priority.choices)
    client = IdFilter(label=_("Client"), field_name="client_id")
    contract = django_filters.CharFilter(
        label=_("Contract"), field_name="contract__code", lookup_expr="iexact"
    )
    queue = django_filters.CharFilter(label=_("Queue"), field_name="queue_code")
    assignee = IdFilter(label=_("Assignee"), field_name="assignee_id")
    sla = django_filters.ChoiceFilter(
        label=_("SLA state"), choices=SLA_FILTER_CHOICES, method="sla_state"
    )
    opened_after = django_filters.DateFilter(
        label=_("Opened from"), field_name="opened_at", lookup_expr="date__gte"
    )
    opened_before = django_filters.DateFilter(
        label=_("Opened until"), field_name="opened_at", lookup_expr="date__lte"
    )

    class Meta:
        model = Case
        form = FilterForm  # the input rule of config.inputs
        fields = []

    def only_open(self, queryset, name, value):
        return queryset.filter(status__in=OPEN_STATUSES) if value else queryset

    def sla_state(self, queryset, name, value):
        """Either target in that state (breached and at-risk are what people look for)."""
        states = [SlaState.AT_RISK, SlaState.BREACHED] if value == AT_RISK_OR_BREACHED else [value]
        return queryset.filter(Q(first_response_state__in=states) | Q(resolution_state__in=states))


class CaseFilter(CaseAttributeFilter):
    """With the search by reference, phone, name or text: personal data, so it travels in a
    request body (the case pages keep it in the session, the API has `cases/search/`).

    Text is a full-text search (`care.search`): the best matches first, at most
    `care.search.RESULTS`; `text_hits` then says what was found, for the snippets."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        help_text=_("Reference, phone, name or text"),
        max_length=textsearch.MAX_QUERY_LENGTH,
    )
    text_hits: TextHits | None = None

    class Meta(CaseAttributeFilter.Meta):
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value.upper().startswith("CS-"):
            return queryset.filter(reference__iexact=value)
        try:
            number = normalise_phone(value)
        except InvalidPhoneNumber:
            number = None
        if number:
            return queryset.filter(end_user__phones__number=number)
        query = textsearch.parse_query(value)
        if query is None:  # symbols only: nothing to look for
            return queryset.none()
        # A surname typed whole: that caller's cases first. The end users are found by their
        # own index, then their cases by theirs (a join here walked every case by date).
        named = contract_selectors.end_user_ids_named(value)
        callers = (
            queryset.filter(end_user_id__in=named)
            .order_by("-opened_at")
            .values_list("pk", flat=True)
            if named
            else None
        )
        found, self.text_hits = search_cases(queryset, query, first=callers)
        return found
