"""REST endpoints of the care app: parse, fetch through a selector, call one service, render.

Writes need `handle_cases` and, case by case, that the user works the case (care.working) or
gives an `override_reason` (else 403 `not_working_this_case`); supervisors may read. A case
someone else changed since the client loaded it (`row_version`) is refused with 409.
"""

import csv
import io
import json

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from care import ledger, notifications, privacy, search, selectors, services
from care.exceptions import CallerNotFoundBySearch
from care.filters import CaseAttributeFilter, CaseFilter
from care.models import Case, Notification
from care.serializers import (
    CaseDetailSerializer,
    CaseInput,
    CaseListSerializer,
    CaseSearchInput,
    CaseUpdateInput,
    ContactInput,
    HandoffAnswerInput,
    HandoffInput,
    HandoffSerializer,
    NoteInput,
    NoteSerializer,
    ReopenInput,
    TransitionInput,
)
from config import access_log
from config.errors import InvalidInput, NotFound
from config.parsers import StrictJSONParser
from config.permissions import capability

# Reads as on the case pages: people who work or supervise cases (managers see aggregates).
HandleCases = capability("handle_cases", read=("handle_cases", "supervise"))


def _valid(serializer_class, request, **kwargs):
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer


def _detail(request, reference: str, *, case: Case | None = None) -> Response:
    """The case as it is now, with its notes, events and hand-offs (`case`: one just opened
    by this request, see `selectors.case_just_opened`)."""
    case = case or selectors.case_by_reference(request.user, reference)
    access_log.note(request, end_users=[case.end_user_id] if case.end_user_id else [])
    context = {
        "request": request,
        "sees_in_full": privacy.sees_in_full(request.user, case),
        "event_names": selectors.names_for_events(
            case.events.all(), units={h.unit_code: h.unit_name for h in case.handoffs.all()}
        ),
    }
    return Response(CaseDetailSerializer(case, context=context).data)


def _note_callers(request, cases) -> None:
    """The access-log row of a list names the callers on the page (one bulk insert)."""
    access_log.note(
        request, end_users=[case.end_user_id for case in cases or () if case.end_user_id]
    )


class CaseListCreateApi(generics.ListAPIView):
    """Cases visible to the user, newest first, filtered by what they are (status, priority,
    client, dates...); POST opens one. Searching by phone, name or text is
    `POST cases/search/`: personal data never travels in a URL."""

    permission_classes = [HandleCases]
    serializer_class = CaseListSerializer
    filterset_class = CaseAttributeFilter

    def get_queryset(self):
        return selectors.cases_visible_to(self.request.user).order_by("-opened_at", "-id")

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        _note_callers(self.request, page)
        return page

    @extend_schema(responses=CaseListSerializer(many=True))
    def get(self, request, *args, **kwargs):
        if "q" in request.query_params:
            raise InvalidInput(
                _('Search in the request body: POST /api/v1/cases/search/ {"q": ...}.'),
                fields={"q": [_("Not accepted in the address.")]},
            )
        return super().get(request, *args, **kwargs)

    @extend_schema(request=CaseInput, responses={201: CaseDetailSerializer})
    def post(self, request):
        """As on the intake page, the caller must come from this user's own recent lookup:
        an id from elsewhere is refused (and the refusal logged), never shown unmasked."""
        case_request = _valid(CaseInput, request).to_request()
        end_user_id = case_request.end_user_id
        if end_user_id is not None:
            access_log.note(request, end_users=[end_user_id])
            if not access_log.found_recently(request.user, end_user_id, now=timezone.now()):
                raise CallerNotFoundBySearch()
        case = services.open_case(actor=request.user, request=case_request)
        response = _detail(request, case.reference, case=selectors.case_just_opened(case))
        response.status_code = status.HTTP_201_CREATED
        return response


class CaseSearchApi(generics.GenericAPIView):
    """POST, so the phone number or name searched travels in the body, never in a URL that
    proxies and logs keep. Answers the same paginated list as `GET cases/` (`?page=`); a
    search by text answers the best matches first (at most 50), each with a `snippet`: the
    passage that matched, HTML-escaped, the words found in `<mark>`."""

    permission_classes = [HandleCases]
    serializer_class = CaseListSerializer

    def get_queryset(self):
        return selectors.cases_visible_to(self.request.user).order_by("-opened_at", "-id")

    @extend_schema(request=CaseSearchInput, responses=CaseListSerializer(many=True))
    def post(self, request):
        data = _valid(CaseSearchInput, request).validated_data
        if data.get("q"):
            access_log.note(request, searched={"q": data["q"][:100]})
        filterset = CaseFilter(
            {key: value for key, value in data.items() if value not in (None, "", [])},
            queryset=self.get_queryset(),
            request=request,
        )
        if not filterset.is_valid():
            raise InvalidInput(fields={k: [str(m) for m in v] for k, v in filterset.errors.items()})
        page = self.paginate_queryset(filterset.qs)
        _note_callers(request, page)
        rows = self.get_serializer(page, many=True).data
        if filterset.text_hits is not None:
            snippets = search.snippets(request.user, page, filterset.text_hits)
            for row, case in zip(rows, page, strict=True):
                row["snippet"] = str(snippets.get(case.pk, ""))
        return self.get_paginated_response(rows)


class CaseDetailApi(APIView):
    permission_classes = [HandleCases]

    @extend_schema(responses=CaseDetailSerializer)
    def get(self, request, reference: str):
        return _detail(request, reference)

    @extend_schema(request=CaseUpdateInput, responses=CaseDetailSerializer)
    def patch(self, request, reference: str):
        """Change the priority (its targets follow); nothing else changes in place."""
        case = selectors.case_by_reference(request.user, reference)
        data = _valid(CaseUpdateInput, request).validated_data
        services.change_priority(
            actor=request.user,
            case=case,
            priority=data["priority"],
            expected_version=data["row_version"],
            override_reason=data["override_reason"],
        )
        return _detail(request, case.reference)


class CaseNotesApi(APIView):
    """Notes are append-only; a note visible to the customer is the first response."""

    permission_classes = [HandleCases]
    parser_classes = [MultiPartParser, FormParser, StrictJSONParser]

    @extend_schema(responses=NoteSerializer(many=True))
    def get(self, request, reference: str):
        case = selectors.case_by_reference(request.user, reference)
        context = {"sees_in_full": privacy.sees_in_full(request.user, case)}
        return Response(NoteSerializer(case.notes.all(), many=True, context=context).data)

    @extend_schema(
        request={"application/json": NoteInput, "multipart/form-data": NoteInput},
        responses={201: NoteSerializer},
    )
    def post(self, request, reference: str):
        case = selectors.case_by_reference(request.user, reference)
        data = _valid(NoteInput, request).validated_data
        note = services.add_note(
            actor=request.user,
            case=case,
            body=data["body"],
            visibility=data["visibility"],
            attachments=data["attachments"],
            expected_version=data["row_version"],
            override_reason=data["override_reason"],
        )
        context = {"sees_in_full": privacy.sees_in_full(request.user, case)}
        return Response(NoteSerializer(note, context=context).data, status=status.HTTP_201_CREATED)


class CaseTransitionApi(APIView):
    permission_classes = [HandleCases]

    @extend_schema(request=TransitionInput, responses=CaseDetailSerializer)
    def post(self, request, reference: str):
        case = selectors.case_by_reference(request.user, reference)
        data = _valid(TransitionInput, request).validated_data
        services.transition_case(
            actor=request.user,
            case=case,
            to=data["to"],
            expected_version=data["row_version"],
            override_reason=data["override_reason"],
            resolution_code=data["closing_code"] or data["resolution_code"],
            first_contact_resolution=data["first_contact_resolution"],
        )
        return _detail(request, case.reference)


class CaseHandoffApi(APIView):
    """Forward the case to one of its contract's hand-off units; the case waits on it."""

    permission_classes = [HandleCases]

    @extend_schema(request=HandoffInput, responses={201: HandoffSerializer})
    def post(self, request, reference: str):
        case = selectors.case_by_reference(request.user, reference)
        data = _valid(HandoffInput, request).validated_data
        handoff = services.send_handoff(
            actor=request.user,
            case=case,
            unit_code=data["unit"],
            request=data["request"],
            expected_version=data["row_version"],
            override_reason=data["override_reason"],
        )
        context = {"sees_in_full": privacy.sees_in_full(request.user, case)}
        return Response(
            HandoffSerializer(handoff, context=context).data, status=status.HTTP_201_CREATED
        )


class CaseHandoffAnswerApi(APIView):
    """Record a unit's answer: `resolved` resolves the case, `bounced` sends it back."""

    permission_classes = [HandleCases]

    @extend_schema(request=HandoffAnswerInput, responses=HandoffSerializer)
    def post(self, request, reference: str, handoff_id: int):
        case = selectors.case_by_reference(request.user, reference)
        handoff = next((h for h in case.handoffs.all() if h.id == handoff_id), None)
        if handoff is None:
            raise NotFound(_("This case has no such hand-off."))
        data = _valid(HandoffAnswerInput, request).validated_data
        handoff = services.answer_handoff(
            actor=request.user,
            handoff=handoff,
            answer=data["answer"],
            outcome=data["outcome"],
            resolution_code=data["resolution_code"],
            override_reason=data["override_reason"],
        )
        context = {"sees_in_full": privacy.sees_in_full(request.user, case)}
        return Response(HandoffSerializer(handoff, context=context).data)


class CaseReopenApi(APIView):
    """A resolved or closed case comes back to work; the re-opening is counted."""

    permission_classes = [HandleCases]

    @extend_schema(request=ReopenInput, responses=CaseDetailSerializer)
    def post(self, request, reference: str):
        case = selectors.case_by_reference(request.user, reference)
        data = _valid(ReopenInput, request).validated_data
        services.reopen_case(
            actor=request.user,
            case=case,
            reason=data["reason"],
            expected_version=data["row_version"],
            override_reason=data["override_reason"],
        )
        return _detail(request, case.reference)


class CaseContactApi(APIView):
    """The caller of a case called again about it: the contact becomes a note of the case
    (reopened if resolved or closed) instead of a duplicate. The 409 `duplicate_suspected` of
    `POST cases/` lists the cases to use."""

    permission_classes = [HandleCases]

    @extend_schema(request=ContactInput, responses=CaseDetailSerializer)
    def post(self, request, reference: str):
        case = selectors.case_by_reference(request.user, reference)
        data = _valid(ContactInput, request).validated_data
        services.add_contact(
            actor=request.user,
            case=case,
            end_user_id=data["end_user"],
            subject=data["subject"],
            description=data["description"],
            expected_version=data["row_version"],
            override_reason=data["override_reason"],
        )
        return _detail(request, case.reference)


# --- Notifications --------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="case.reference", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "reference", "kind", "target", "created_at", "read_at"]


class NotificationListApi(generics.ListAPIView):
    """The caller's own SLA notifications, newest first; `?unread=1` for the unread only."""

    serializer_class = NotificationSerializer
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Notification.objects.none()
        found = notifications.notifications_of(self.request.user)
        if self.request.query_params.get("unread") in ("1", "true"):
            found = found.filter(read_at__isnull=True)
        return found


class NotificationReadApi(APIView):
    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request, notification_id: int):
        notification = notifications.mark_notification_read(
            user=request.user, notification_id=notification_id, now=timezone.now()
        )
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllApi(APIView):
    @extend_schema(request=None, responses={200: dict})
    def post(self, request):
        count = notifications.mark_all_notifications_read(user=request.user, now=timezone.now())
        return Response({"marked": count})


# --- SLA ledger -----------------------------------------------------------------------------


class LedgerCsvRenderer(BaseRenderer):
    """Lets `?format=csv` through content negotiation; the view writes the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, str | bytes) else json.dumps(data)


class CaseSlaLedgerApi(APIView):
    """Why each due time is what it is: `?format=json` (default) or `?format=csv`."""

    permission_classes = [HandleCases]
    renderer_classes = [JSONRenderer, LedgerCsvRenderer]

    @extend_schema(responses={200: dict})
    def get(self, request, reference: str):
        case = selectors.case_by_reference(request.user, reference)
        found = ledger.case_ledger(case)
        rows = ledger.ledger_rows(found)
        if request.accepted_renderer.format == "csv":
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["at", "kind", "target", "due", "text"])
            for row in rows:
                writer.writerow([ledger.safe_cell(row[key]) for key in row])
            return HttpResponse(
                out.getvalue(),
                content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{case.reference}-sla.csv"'},
            )
        return Response(
            {
                "reference": case.reference,
                "has_sla": found.has_sla,
                "first_response_due": _iso(found.due["first_response"]),
                "resolution_due": _iso(found.due["resolution"]),
                "entries": rows,
            }
        )


def _iso(instant):
    return instant.isoformat() if instant else None
