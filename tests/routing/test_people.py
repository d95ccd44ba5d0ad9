"""People (issue #20 point 1): accounts and roles by administrators, operator profiles and
certifications by the supervisors of their sites, deactivation that hands the open cases
back, bulk onboarding, each through the page and the API, each change in the audit."""

import io
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from care import services as care_services
from care.models import CaseEvent
from config.models import ConfigChange
from contracts import services as contract_services
from contracts.models import ContractStatus
from routing.models import Certification, OperatorProfile, PresenceChange, Site
from tests.contract_terms import terms

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def milano(supervisor):
    site = Site.objects.create(code="mi", name="Milano", province="MI")
    site.supervisors.add(supervisor)
    return site


@pytest.fixture
def palermo(db):
    return Site.objects.create(code="pa", name="Palermo", province="PA")


@pytest.fixture
def newcomer(user_factory):
    """An operator's account with no profile yet."""
    return user_factory("op.nuovo", first_name="Nina", last_name="Nuovo")


@pytest.fixture
def palermo_operator(operator, palermo, profile_factory):
    profile = profile_factory(operator)
    OperatorProfile.objects.filter(id=profile.id).update(site=palermo)
    return operator


@pytest.fixture
def ended_contract(manager, client_pa, office_calendar):
    return contract_services.create_contract(
        actor=manager,
        code="RSIC-OLD-2025",
        client=client_pa,
        calendar=office_calendar,
        services=["mobile"],
        valid_from=date(2026, 1, 1),
        valid_to=date(2026, 6, 30),
        terms=terms(),
    )


def changes(target_type: str) -> list[ConfigChange]:
    return list(ConfigChange.objects.filter(target_type=target_type).order_by("id"))


# --- Accounts and roles ---------------------------------------------------------------------


def test_an_admin_creates_an_operator_with_profile_through_the_api_and_both_are_audited(
    admin_api, admin_user, milano, contract, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(
            "/api/v1/people/",
            {
                "username": "op.bianchi",
                "first_name": "Luca",
                "last_name": "Bianchi",
                "email": "luca.bianchi@example.test",
                "roles": ["operatore"],
                "profile": {"site": "mi", "capacity": 6, "languages": ["it", "de"]},
                "certifications": [{"contract": contract.code}],
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["roles"] == ["operatore"]
    assert body["profile"]["site"] == "mi"
    assert body["profile"]["certifications"][0]["contract"] == contract.code
    person = User.objects.get(username="op.bianchi")
    assert not person.has_usable_password()
    [user_row] = changes("user")
    assert (user_row.action, user_row.actor, user_row.before) == ("created", admin_user, {})
    assert user_row.after["roles"] == ["operatore"]
    assert "password" not in str(user_row.after)
    [profile_row] = changes("profile")
    assert profile_row.after["capacity"] == 6
    assert profile_row.after["certifications"] == [contract.code]
    # The password: a one-time link to the user's own address, nobody else's.
    [message] = mail.outbox
    assert message.to == ["luca.bianchi@example.test"]
    assert "/accounts/password/set/" in message.body


def test_the_password_link_lets_the_new_user_choose_a_password_once_and_sign_in(client, admin_user):
    from config import users

    person = users.create_user(
        actor=admin_user,
        data=users.UserData("op.link", "Lia", "Link", "lia@example.test", ["operatore"]),
        now=admin_user.date_joined,
        send_link=False,
    )
    link = users.password_link_path(person)
    page = client.get(link, follow=True)
    assert page.status_code == 200
    assert b"op.link" in page.content
    chosen = "una-frase-lunga-e-segreta-42"
    done = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": chosen, "new_password2": chosen},
        follow=True,
    )
    assert done.status_code == 200
    signed_in = client.post("/accounts/login/", {"username": "op.link", "password": chosen})
    assert signed_in.status_code == 302
    assert Client().get(link, follow=True).context["validlink"] is False  # spent


def test_a_username_that_exists_is_refused_beside_its_field_and_nothing_is_written(
    admin_api, operator
):
    response = admin_api.post(
        "/api/v1/people/",
        {
            "username": operator.username.upper(),
            "first_name": "Doppio",
            "last_name": "Nome",
            "email": "doppio@example.test",
            "roles": ["operatore"],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_profile_data"
    assert "username" in response.json()["fields"]
    assert not User.objects.filter(first_name="Doppio").exists()
    assert changes("user") == []
    assert mail.outbox == []


def test_an_admin_changes_roles_on_the_page_and_the_audit_keeps_before_and_after(
    client, admin_user, operator
):
    client.force_login(admin_user)
    response = client.post(
        f"/routing/people/{operator.pk}/account/",
        {
            "first_name": "Mario",
            "last_name": "Rossi",
            "email": "mario@example.test",
            "roles": ["operatore", "supervisore"],
        },
    )
    assert response.status_code == 302
    [row] = changes("user")
    assert row.action == "changed"
    assert row.before["roles"] == ["operatore"]
    assert row.after["roles"] == ["operatore", "supervisore"]
    assert row.after["email"] == "mario@example.test"


def test_only_administrators_create_accounts(client, supervisor_api, supervisor):
    response = supervisor_api.post(
        "/api/v1/people/",
        {"username": "x", "first_name": "x", "last_name": "x", "email": "x@x.it", "roles": []},
        format="json",
    )
    assert response.status_code == 403
    client.force_login(supervisor)
    assert client.get("/routing/people/new/").status_code == 403


# --- Profiles and the supervisor's scope ----------------------------------------------------


def test_a_supervisor_creates_the_profile_of_an_operator_who_has_none_at_their_site(
    client, supervisor, milano, newcomer
):
    client.force_login(supervisor)
    listing = client.get("/routing/people/")
    assert "Nina Nuovo" in listing.content.decode()
    response = client.post(
        f"/routing/people/{newcomer.pk}/profile/",
        {
            "site": milano.pk,
            "capacity": 4,
            "backoffice_share": "0.25",
            "skills": ["mobile"],
            "languages": ["it", "en"],
            "extension": "4021",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    profile = OperatorProfile.objects.get(user=newcomer)
    assert (profile.site, profile.capacity, profile.languages) == (milano, 4, ["en", "it"])
    [row] = changes("profile")
    assert (row.action, row.actor, row.after["site"], row.after["extension"]) == (
        "created",
        supervisor,
        milano.pk,
        "4021",
    )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": 31}, "capacity"),
        ({"backoffice_share": "1.5"}, "backoffice_share"),
        ({"backoffice_share": "-0.1"}, "backoffice_share"),
        ({"languages": ["klingon"]}, "languages"),
        ({"skills": ["teleport"]}, "skills"),
    ],
)
def test_bad_profile_values_are_refused_beside_their_field_and_nothing_is_written(
    admin_api, milano, newcomer, values, field
):
    response = admin_api.patch(
        f"/api/v1/people/{newcomer.pk}/",
        {"profile": {"site": "mi", **values}},
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert not OperatorProfile.objects.filter(user=newcomer).exists()
    assert changes("profile") == []


def test_a_bad_profile_leaves_the_account_change_sent_with_it_unwritten(
    admin_api, milano, newcomer
):
    response = admin_api.patch(
        f"/api/v1/people/{newcomer.pk}/",
        {"first_name": "Cambiato", "profile": {"site": "mi", "capacity": 0}},
        format="json",
    )
    assert response.status_code == 400
    newcomer.refresh_from_db()
    assert newcomer.first_name == "Nina"
    assert ConfigChange.objects.count() == 0


def test_a_milano_supervisor_cannot_change_a_palermo_operator(
    client, supervisor, supervisor_api, milano, palermo_operator
):
    client.force_login(supervisor)
    assert client.get(f"/routing/people/{palermo_operator.pk}/").status_code == 403
    page = client.post(
        f"/routing/people/{palermo_operator.pk}/profile/",
        {"site": milano.pk, "capacity": 9, "backoffice_share": "0.4"},
    )
    assert page.status_code == 403
    response = supervisor_api.patch(
        f"/api/v1/people/{palermo_operator.pk}/", {"profile": {"capacity": 9}}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "outside_your_sites"
    assert response.json()["message"]
    assert OperatorProfile.objects.get(user=palermo_operator).capacity == 5
    assert palermo_operator.username not in client.get("/routing/people/").content.decode()
    assert changes("profile") == []


def test_a_supervisor_cannot_move_an_operator_of_their_site_to_a_site_they_do_not_run(
    supervisor_api, milano, palermo, newcomer, admin_user
):
    from routing import staff

    staff.create_profile(
        actor=admin_user,
        user=newcomer,
        data=staff.ProfileData(site=milano),
        now=admin_user.date_joined,
    )
    response = supervisor_api.patch(
        f"/api/v1/people/{newcomer.pk}/", {"profile": {"site": "pa"}}, format="json"
    )
    assert response.status_code == 403
    assert OperatorProfile.objects.get(user=newcomer).site == milano


def test_the_profile_page_shows_a_capacity_of_zero_as_a_field_error(
    client, admin_user, milano, newcomer
):
    client.force_login(admin_user)
    response = client.post(
        f"/routing/people/{newcomer.pk}/profile/",
        {"site": milano.pk, "capacity": 0, "backoffice_share": "0.4"},
    )
    assert response.status_code == 400
    assert "capacity" in response.context["profile_form"].errors
    assert not OperatorProfile.objects.filter(user=newcomer).exists()


# --- Certifications -------------------------------------------------------------------------


def test_certifications_are_added_and_removed_through_the_api_with_their_audit(
    admin_api, palermo_operator, contract, client_pa
):
    added = admin_api.post(
        f"/api/v1/people/{palermo_operator.pk}/certifications/",
        {"contract": contract.code},
        format="json",
    )
    assert added.status_code == 201, added.json()
    by_client = admin_api.post(
        f"/api/v1/people/{palermo_operator.pk}/certifications/",
        {"client": client_pa.pk},
        format="json",
    )
    assert by_client.status_code == 201
    again = admin_api.post(
        f"/api/v1/people/{palermo_operator.pk}/certifications/",
        {"contract": contract.code},
        format="json",
    )
    assert again.status_code == 400
    assert "contract" in again.json()["fields"]
    removed = admin_api.delete(
        f"/api/v1/people/{palermo_operator.pk}/certifications/{added.json()['id']}/"
    )
    assert removed.status_code == 204
    rows = changes("certification")
    assert [r.action for r in rows] == ["created", "created", "deleted"]
    assert rows[0].after["contract"] == contract.pk
    assert rows[2].before["contract"] == contract.pk
    assert rows[2].after == {}
    assert list(
        Certification.objects.filter(profile__user=palermo_operator).values_list(
            "client_id", flat=True
        )
    ) == [client_pa.pk]


def test_a_certification_on_an_ended_contract_is_refused_beside_the_contract_field(
    client, admin_user, admin_api, palermo_operator, ended_contract
):
    response = admin_api.post(
        f"/api/v1/people/{palermo_operator.pk}/certifications/",
        {"contract": ended_contract.code},
        format="json",
    )
    assert response.status_code == 400
    assert "contract" in response.json()["fields"]
    client.force_login(admin_user)
    page = client.post(
        f"/routing/people/{palermo_operator.pk}/certifications/",
        {"contract": ended_contract.code},
    )
    assert page.status_code == 400
    assert "contract" in page.context["certification_form"].errors
    assert not Certification.objects.filter(contract=ended_contract).exists()
    assert changes("certification") == []


def test_a_certification_on_a_terminated_contract_is_refused(admin_api, palermo_operator, contract):
    type(contract).objects.filter(id=contract.id).update(status=ContractStatus.TERMINATED)
    response = admin_api.post(
        f"/api/v1/people/{palermo_operator.pk}/certifications/",
        {"contract": contract.code},
        format="json",
    )
    assert response.status_code == 400
    assert "contract" in response.json()["fields"]


# --- Deactivation ---------------------------------------------------------------------------


def test_deactivating_an_operator_hands_their_open_cases_back_to_their_queues(
    admin_api, admin_user, palermo_operator, open_case_for, end_user, now
):
    held = open_case_for(end_user)
    held = care_services.assign_case(actor=admin_user, case=held, assignee=palermo_operator)
    working = open_case_for(end_user, duplicate_override_reason="altro problema")
    working = care_services.assign_case(actor=admin_user, case=working, assignee=palermo_operator)
    working = care_services.transition_case(
        actor=palermo_operator, case=working, to="in_progress", now=now
    )
    response = admin_api.post(
        f"/api/v1/people/{palermo_operator.pk}/deactivate/",
        {"reason": "Fine del contratto"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["cases_returned_to_queue"] == 2
    assert response.json()["is_active"] is False
    for case in (held, working):
        before_queue = case.queue_code
        case.refresh_from_db()
        assert (case.assignee_id, case.status, case.queue_code) == (None, "new", before_queue)
        released = case.events.filter(kind=CaseEvent.Kind.ASSIGNED).order_by("id").last()
        assert released.to_value == ""
        assert released.detail["reason_code"] == "holder_deactivated"
        assert released.detail["previous"] == palermo_operator.pk
    profile = OperatorProfile.objects.get(user=palermo_operator)
    assert profile.presence == "offline"
    assert PresenceChange.objects.filter(profile=profile, to_state="offline").exists()
    [row] = changes("user")
    assert (row.action, row.reason) == ("deactivated", "Fine del contratto")
    assert (row.before["is_active"], row.after["is_active"]) == (True, False)


def test_the_timeline_says_a_released_case_went_back_to_its_queue(
    admin_user, palermo_operator, open_case_for, end_user, now
):
    from care import wording
    from care.selectors import names_for_events
    from routing import staff

    case = open_case_for(end_user)
    care_services.assign_case(actor=admin_user, case=case, assignee=palermo_operator)
    staff.deactivate_person(actor=admin_user, user=palermo_operator, now=now)
    event = case.events.filter(kind=CaseEvent.Kind.ASSIGNED).order_by("id").last()
    said = wording.event_in_words(event, names_for_events([event]))
    assert said["change"].startswith("Mario Rossi → ")
    assert said["reason"]


def test_an_admin_deactivates_and_reactivates_on_the_page(client, admin_user, palermo_operator):
    client.force_login(admin_user)
    off = client.post(f"/routing/people/{palermo_operator.pk}/deactivate/", {"reason": ""})
    assert off.status_code == 302
    palermo_operator.refresh_from_db()
    assert not palermo_operator.is_active
    on = client.post(f"/routing/people/{palermo_operator.pk}/reactivate/", {"reason": "rientro"})
    assert on.status_code == 302
    palermo_operator.refresh_from_db()
    assert palermo_operator.is_active
    assert [r.action for r in changes("user")] == ["deactivated", "reactivated"]


def test_an_admin_cannot_deactivate_themselves(admin_api, admin_user):
    response = admin_api.post(f"/api/v1/people/{admin_user.pk}/deactivate/", {}, format="json")
    assert response.status_code == 400
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_a_supervisor_cannot_deactivate_anyone(supervisor_api, milano, newcomer):
    response = supervisor_api.post(f"/api/v1/people/{newcomer.pk}/deactivate/", {}, format="json")
    assert response.status_code == 403


# --- Bulk onboarding ------------------------------------------------------------------------

HEADING = "username;nome;cognome;email;ruolo;sede;remoto;capacita;quota_backoffice;lingue;contratti"


def _csv(*lines: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "persone.csv", "\n".join([HEADING, *lines]).encode(), content_type="text/csv"
    )


def test_the_dry_run_lists_every_bad_row_with_its_line_and_field(admin_api, operator, milano):
    upload = _csv(
        "op.uno;Uno;Primo;uno@example.test;operatore;mi;no;5;0,4;it;",
        "op.uno;Uno;Doppio;uno2@example.test;operatore;mi;no;5;0.4;it;",
        f"{operator.username.upper()};Gia;Presente;gia@example.test;operatore;mi;no;5;0.4;it;",
        "op.due;Due;Secondo;due@example.test;operatore;xx;no;5;0.4;it;",
        "op.tre;Tre;Terzo;tre@example.test;operatore;mi;no;tanti;0.4;it;",
        "op.quattro;Quattro;Quarto;q@example.test;operatore;mi;no;0;2;it;NOPE-1",
    )
    response = admin_api.post("/api/v1/people/import/", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["rows"], body["valid"], body["created"], body["dry_run"]) == (6, 1, 0, True)
    problems = {(e["line"], e["field"]) for e in body["errors"]}
    assert problems == {
        (3, "username"),
        (4, "username"),
        (5, "site"),
        (6, "capacity"),
        (7, "capacity"),
        (7, "backoffice_share"),
        (7, "contracts"),
    }
    assert not User.objects.filter(username="op.uno").exists()


def test_a_file_with_a_bad_row_writes_nobody(admin_api, milano):
    upload = _csv(
        "op.uno;Uno;Primo;uno@example.test;operatore;mi;no;5;0.4;it;",
        "op.due;Due;Secondo;non-una-mail;operatore;mi;no;5;0.4;it;",
    )
    response = admin_api.post(
        "/api/v1/people/import/", {"file": upload, "dry_run": False}, format="multipart"
    )
    assert response.status_code == 200
    assert response.json()["created"] == 0
    assert {(e["line"], e["field"]) for e in response.json()["errors"]} == {(3, "email")}
    assert not User.objects.filter(username="op.uno").exists()
    assert ConfigChange.objects.count() == 0


def test_an_xlsx_file_onboards_everyone_with_one_audit_row_per_account_and_profile(
    client, admin_user, milano, contract, django_capture_on_commit_callbacks
):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADING.split(";"))
    sheet.append(["op.uno", "Uno", "Primo", "uno@example.test", "operatore", "mi", "sì", 6, 0.3,
                  "it|en", contract.code])  # fmt: skip
    sheet.append(["man.due", "Due", "Secondo", "due@example.test", "manager", "", "", "", "",
                  "", ""])  # fmt: skip
    data = io.BytesIO()
    book.save(data)
    upload = SimpleUploadedFile("persone.xlsx", data.getvalue())
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/routing/people/import/", {"file": upload, "confirm": "1"})
    assert response.status_code == 200
    assert response.context["report"].created == 2, response.context["report"].errors
    uno = OperatorProfile.objects.get(user__username="op.uno")
    assert (uno.site, uno.remote, uno.capacity, str(uno.backoffice_share)) == (
        milano,
        True,
        6,
        "0.30",
    )
    assert uno.languages == ["en", "it"]
    assert list(uno.certifications.values_list("contract__code", flat=True)) == [contract.code]
    assert not OperatorProfile.objects.filter(user__username="man.due").exists()
    assert len(changes("user")) == 2
    assert len(changes("profile")) == 1
    assert len(mail.outbox) == 2


def test_an_operator_row_without_a_site_is_refused(admin_api):
    upload = _csv("op.uno;Uno;Primo;uno@example.test;operatore;;no;5;0.4;it;")
    response = admin_api.post("/api/v1/people/import/", {"file": upload}, format="multipart")
    assert {(e["line"], e["field"]) for e in response.json()["errors"]} == {(2, "site")}


def test_a_file_without_the_required_columns_is_refused(admin_api):
    upload = SimpleUploadedFile("persone.csv", b"nome;cognome\nUno;Primo\n")
    response = admin_api.post("/api/v1/people/import/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["fields"]


# --- Lists and navigation -------------------------------------------------------------------


def test_the_people_list_costs_the_same_queries_for_many_people(
    admin_api, admin_user, milano, user_factory, django_assert_max_num_queries
):
    from routing import staff

    for n in range(12):
        person = user_factory(f"op.{n}")
        staff.create_profile(
            actor=admin_user,
            user=person,
            data=staff.ProfileData(site=milano),
            now=admin_user.date_joined,
        )
    with django_assert_max_num_queries(8):
        response = admin_api.get("/api/v1/people/")
    assert response.status_code == 200
    listed = [p["username"] for p in response.json()["results"]]
    assert len([name for name in listed if name.startswith("op.")]) == 12


def test_the_people_page_of_a_supervisor_with_no_site_says_so(client, unplaced_supervisor):
    client.force_login(unplaced_supervisor)
    response = client.get("/routing/people/")
    assert response.status_code == 200
    assert b'data-testid="no-sites"' in response.content


def test_the_navigation_shows_people_to_admins_and_supervisors_only(
    client, supervisor, operator, admin_user
):
    for user, shown in ((supervisor, True), (admin_user, True), (operator, False)):
        client.force_login(user)
        assert ('href="/routing/people/"' in client.get("/").content.decode()) is shown


def test_the_no_profile_notice_says_who_creates_the_profile(client, operator):
    client.force_login(operator)
    page = client.get("/routing/").content.decode()
    assert 'data-testid="no-profile"' in page
    assert operator.username in page


def test_the_people_api_refuses_operators(operator_api):
    assert operator_api.get("/api/v1/people/").status_code == 403


def test_the_manager_has_no_people_pages(client, manager):
    client.force_login(manager)
    assert client.get("/routing/people/").status_code == 403


def test_a_supervisor_sees_their_site_and_not_the_others(
    supervisor_api, milano, palermo_operator, newcomer, admin_user, now
):
    from routing import staff

    staff.create_profile(
        actor=admin_user, user=newcomer, data=staff.ProfileData(site=milano), now=now
    )
    response = supervisor_api.get("/api/v1/people/")
    usernames = {p["username"] for p in response.json()["results"]}
    assert newcomer.username in usernames
    assert palermo_operator.username not in usernames


def test_the_password_link_expires_for_nobody_else(client, operator, now, time_machine):
    from config import users

    link = users.password_link_path(operator)
    time_machine.move_to(now + timedelta(days=5))
    page = client.get(link, follow=True)
    assert page.status_code == 200
    assert page.context["validlink"] is False


def test_an_admin_has_the_password_link_sent_again_to_the_user_only(
    client, admin_user, admin_api, operator, supervisor_api
):
    client.force_login(admin_user)
    refused = client.post(f"/routing/people/{operator.pk}/password-link/", follow=True)
    assert refused.status_code == 200
    assert mail.outbox == []  # no address yet: said on the page, nothing sent
    User.objects.filter(id=operator.id).update(email="mario.rossi@example.test")
    assert client.post(f"/routing/people/{operator.pk}/password-link/").status_code == 302
    assert admin_api.post(f"/api/v1/people/{operator.pk}/password-link/").status_code == 202
    assert [m.to for m in mail.outbox] == [["mario.rossi@example.test"]] * 2
    assert "/accounts/password/set/" in mail.outbox[0].body
    assert supervisor_api.post(f"/api/v1/people/{operator.pk}/password-link/").status_code == 403
