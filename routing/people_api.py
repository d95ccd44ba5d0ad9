"""`/api/v1/people/`: accounts and roles (administrators), operator profiles and
certifications (supervisors for their sites, administrators everywhere), deactivation and
bulk onboarding. Parse, fetch through `routing.people_selectors`, call one service of
`routing.staff` / `config.users`, render. Refusals: 4xx `{"code", "message", "fields"}`."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config import roles, users
from config.errors import InvalidInput
from config.parsers import StrictJSONParser
from config.permissions import capability
from contracts.exceptions import ImportFileTooLarge
from contracts.imports import FileTooLarge, UnreadableFile, read_upload
from routing import people_selectors, staff
from routing.people_serializers import (
    CertificationInput,
    CertificationSerializer,
    PeopleImportInput,
    PersonChangeInput,
    PersonCreateInput,
    PersonSerializer,
    PersonSessionsEndedSerializer,
    ReasonInput,
)

ManagePeople = capability("administer", "supervise")
Administer = capability("administer")


def _valid(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _person(request, user_id: int):
    return PersonSerializer(people_selectors.person_for(request.user, user_id)).data


def account_of(data: dict, *, person=None) -> users.UserData:
    """The account's fields as given, the person's current ones for the rest."""

    def pick(name: str) -> str:
        return data.get(name, getattr(person, name, "") if person is not None else "")

    return users.UserData(
        username=pick("username"),
        first_name=pick("first_name"),
        last_name=pick("last_name"),
        email=pick("email"),
        roles=list(data["roles"]) if "roles" in data else roles.roles_of(person),
    )


def report_body(report) -> dict:
    """What an import answers (the people import's and the page's figures)."""
    return {
        "rows": report.rows,
        "valid": report.valid,
        "created": report.created,
        "dry_run": report.dry_run,
        "errors": [
            {"line": e.line, "field": e.field, "field_label": e.field_label, "message": e.message}
            for e in report.errors
        ],
    }


class PersonListApi(generics.ListAPIView):
    """GET: the people the caller manages. POST (administrators): a new account with its
    roles and, for an operator, the profile and certifications in one go; the person is
    e-mailed a link to choose their password."""

    permission_classes = [ManagePeople]
    serializer_class = PersonSerializer

    def get_queryset(self):
        return people_selectors.people_visible_to(self.request.user)

    @extend_schema(request=PersonCreateInput, responses={201: PersonSerializer})
    def post(self, request):
        data = _valid(PersonCreateInput, request)
        certifications = data.get("certifications") or []
        profile = data.get("profile")
        person = staff.onboard_person(
            actor=request.user,
            newcomer=staff.Newcomer(
                user=account_of(data),
                profile=staff.profile_data(profile) if profile else None,
                contracts=[c["contract"] for c in certifications if c.get("contract")],
                clients=[c["client"] for c in certifications if c.get("client")],
            ),
            now=timezone.now(),
        )
        return Response(_person(request, person.pk), status=status.HTTP_201_CREATED)


class PersonDetailApi(APIView):
    permission_classes = [ManagePeople]

    @extend_schema(responses=PersonSerializer)
    def get(self, request, user_id: int):
        return Response(_person(request, user_id))

    @extend_schema(request=PersonChangeInput, responses=PersonSerializer)
    def patch(self, request, user_id: int):
        person = people_selectors.person_for(request.user, user_id)
        data = _valid(PersonChangeInput, request)
        account_given = any(k in data for k in ("first_name", "last_name", "email", "roles"))
        staff.change_person(
            actor=request.user,
            person=person,
            account=account_of(data, person=person) if account_given else None,
            profile_values=data.get("profile"),
            now=timezone.now(),
        )
        return Response(_person(request, user_id))


def _with_reason(request, user_id: int, service):
    """Call `service(actor=, user=, now=, reason=)` on the person with the reason sent;
    what it returned."""
    person = people_selectors.person_for(request.user, user_id)
    data = _valid(ReasonInput, request)
    return service(actor=request.user, user=person, now=timezone.now(), reason=data["reason"])


class PersonDeactivateApi(APIView):
    """The account stops working; the open cases the person holds go back to their
    queues, their presence goes offline and their sessions end."""

    permission_classes = [Administer]

    @extend_schema(request=ReasonInput, responses=PersonSerializer)
    def post(self, request, user_id: int):
        released = _with_reason(request, user_id, staff.deactivate_person)
        return Response(_person(request, user_id) | {"cases_returned_to_queue": len(released)})


class PersonReactivateApi(APIView):
    permission_classes = [Administer]

    @extend_schema(request=ReasonInput, responses=PersonSerializer)
    def post(self, request, user_id: int):
        _with_reason(request, user_id, staff.reactivate_person)
        return Response(_person(request, user_id))


class PersonSessionsEndApi(APIView):
    """POST `{"reason": "…"}` (required): every signed-in session of the person ends, each
    on record; their browsers are signed out at their next request. Administrators only,
    and not for their own sessions (`/api/v1/me/sessions/`)."""

    permission_classes = [Administer]

    @extend_schema(request=ReasonInput, responses=PersonSessionsEndedSerializer)
    def post(self, request, user_id: int):
        ended = _with_reason(request, user_id, users.end_sessions_of)
        return Response({"user": user_id, "sessions_ended": ended})


class PersonPasswordLinkApi(APIView):
    """The link to choose a password, sent again to the person's own address (202)."""

    permission_classes = [Administer]

    @extend_schema(request=None, responses={202: None})
    def post(self, request, user_id: int):
        person = people_selectors.person_for(request.user, user_id)
        users.resend_password_link(actor=request.user, user=person)
        return Response(status=status.HTTP_202_ACCEPTED)


class PersonCertificationListApi(APIView):
    """POST `{"contract": "<code>"}` or `{"client": <id>}`."""

    permission_classes = [ManagePeople]

    @extend_schema(request=CertificationInput, responses={201: CertificationSerializer})
    def post(self, request, user_id: int):
        person = people_selectors.person_for(request.user, user_id)
        profile = people_selectors.profile_of_person(person)
        if profile is None:
            raise staff.NoProfileYet()
        data = _valid(CertificationInput, request)
        certification = staff.add_certification(
            actor=request.user,
            profile=profile,
            contract=data.get("contract"),
            client=data.get("client"),
            now=timezone.now(),
        )
        return Response(CertificationSerializer(certification).data, status=status.HTTP_201_CREATED)


class PersonCertificationDetailApi(APIView):
    permission_classes = [ManagePeople]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, user_id: int, certification_id: int):
        person = people_selectors.person_for(request.user, user_id)
        certification = people_selectors.certification_of(person, certification_id)
        staff.remove_certification(
            actor=request.user, certification=certification, now=timezone.now()
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PeopleImportApi(APIView):
    """CSV or XLSX; `dry_run` (the default) lists every bad row and writes nothing; applied,
    all rows are written or none."""

    permission_classes = [Administer]
    parser_classes = [MultiPartParser, FormParser, StrictJSONParser]

    @extend_schema(request={"multipart/form-data": PeopleImportInput}, responses=dict)
    def post(self, request):
        data = _valid(PeopleImportInput, request)
        try:
            rows = read_upload(
                data["file"], columns=staff.IMPORT_COLUMNS, required=staff.IMPORT_REQUIRED
            )
        except FileTooLarge as exc:
            raise ImportFileTooLarge(str(exc), fields={"file": [str(exc)]}) from None
        except UnreadableFile as exc:
            raise InvalidInput(str(exc), fields={"file": [str(exc)]}) from None
        report = staff.onboard_people(
            actor=request.user, rows=rows, dry_run=data["dry_run"], now=timezone.now()
        )
        return Response(
            report_body(report),
            status=status.HTTP_201_CREATED if report.created else status.HTTP_200_OK,
        )
