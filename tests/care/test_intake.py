"""The intake page: screen pop, caller choice, a case in one request, the duplicate guard."""

import logging
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from care import services
from care.intake import SESSION_CALLER, SESSION_QUERY
from care.models import Case, CaseEvent, CaseStatus
from config.log_filters import redact
from config.models import AccessLog
from tests.factories import CLOSING_CODE, EndUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def caller(contract):
    return EndUserFactory(
        client=contract.client, first_name="Rosalia", last_name="Amato", phone="+393471234567"
    )


def case_form(**changes):
    data = {
        "category": "roaming",
        "priority": "P3",
        "channel": "phone",
        "subject": "Roaming in Francia",
        "description": "Nessun servizio dati a Parigi.",
    }
    data.update(changes)
    return data


def test_screen_pop_moves_the_number_into_the_session_and_redirects_to_a_clean_url(
    client, operator, caller
):
    client.force_login(operator)
    response = client.get(reverse("care:intake"), {"phone": "347 123 4567"})
    assert response.status_code == 302
    assert response["Location"] == reverse("care:intake")
    assert client.session[SESSION_QUERY] == {"phone": "347 123 4567"}
    page = client.get(response["Location"]).content.decode()
    assert "Rosalia Amato" in page
    assert "RSIC-MOB-2026" in page
    assert 'name="category"' in page  # one match: the form is ready
    assert client.session[SESSION_CALLER]["end_user_id"] == caller.id


def test_a_screen_pop_to_a_signed_out_browser_sends_it_to_login_with_a_clean_next(client, caller):
    response = client.get(reverse("care:intake"), {"phone": "+39 347 123 4567"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/care/intake/"
    assert client.session[SESSION_QUERY] == {"phone": "+39 347 123 4567"}


def test_the_number_of_a_screen_pop_is_looked_up_once_the_operator_signs_in(
    client, operator, caller
):
    pop = client.get(reverse("care:intake"), {"phone": "347 123 4567"})
    login_page = client.get(pop["Location"])
    assert login_page.status_code == 200
    signed_in = client.post(
        pop["Location"], {"username": operator.username, "password": "correct-horse-battery"}
    )
    assert signed_in.status_code == 302
    assert signed_in["Location"] == reverse("care:intake")
    page = client.get(signed_in["Location"]).content.decode()
    assert "Rosalia Amato" in page
    assert 'name="category"' in page
    assert client.session[SESSION_CALLER]["end_user_id"] == caller.id


def test_a_signed_out_browser_without_a_screen_pop_is_sent_to_login_as_before(client):
    response = client.get(reverse("care:intake"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/care/intake/"
    assert SESSION_QUERY not in client.session
    posted = client.post(reverse("care:intake"), {"action": "restart"})
    assert posted.status_code == 302
    assert posted["Location"].startswith(reverse("login"))


def test_a_screen_pop_to_a_user_who_does_not_handle_cases_is_refused(client, manager):
    client.force_login(manager)
    assert client.get(reverse("care:intake"), {"phone": "3471234567"}).status_code == 403
    assert SESSION_QUERY not in client.session


def test_the_number_of_a_screen_pop_never_reaches_a_log_line():
    line = '"GET /care/intake/?phone=%2B393471234567 HTTP/1.1" 302 0'
    assert "3471234567" not in redact(line)
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s',
        ("GET /care/intake/?phone=3471234567&x=1 HTTP/1.1", 302),
        None,
    )
    from config.log_filters import RedactPersonalData

    RedactPersonalData().filter(record)
    assert "3471234567" not in record.getMessage()


def test_a_case_is_opened_in_one_request_with_the_category_defaults(client, operator, caller):
    client.force_login(operator)
    client.get(reverse("care:intake"), {"phone": "3471234567"})
    client.get(reverse("care:intake"))
    response = client.post(reverse("care:intake"), case_form())
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("care:case-detail", args=[case.reference])
    assert (case.end_user, case.category.code, case.channel) == (caller, "roaming", "phone")
    assert case.opened_by == operator
    assert SESSION_CALLER not in client.session  # the next call starts clean


def test_resolved_during_the_call_counts_as_first_contact_resolution(client, operator, caller):
    client.force_login(operator)
    client.get(reverse("care:intake"), {"phone": "3471234567"})
    client.get(reverse("care:intake"))
    client.post(reverse("care:intake"), case_form(resolved_now="on"))
    case = Case.objects.get()
    assert case.status == CaseStatus.RESOLVED
    assert case.first_contact_resolution is True
    assert case.first_response_at is not None


def test_a_case_that_cannot_be_resolved_at_once_is_not_opened_and_the_form_says_why(
    client, operator, caller
):
    """Opening and resolving during the call are one transaction (services.open_case with
    resolved_during_call): if resolving is refused, nothing is written and the form says why,
    so the operator never leaves an open case behind believing it resolved."""
    client.force_login(operator)
    client.get(reverse("care:intake"), {"phone": "3471234567"})
    client.get(reverse("care:intake"))
    refused = services.TransitionNotAllowed("Nel frattempo la pratica è cambiata.")
    with mock.patch.object(services, "_change_status", side_effect=refused):
        response = client.post(reverse("care:intake"), case_form(resolved_now="on"), follow=True)
    assert not Case.objects.exists()
    assert not CaseEvent.objects.exists()
    assert response.status_code == 200
    assert "Nel frattempo la pratica è cambiata." in response.content.decode()


def test_bad_input_is_shown_on_the_form_and_nothing_is_written(client, operator, caller):
    client.force_login(operator)
    client.get(reverse("care:intake"), {"phone": "3471234567"})
    client.get(reverse("care:intake"))
    page = client.post(reverse("care:intake"), case_form(description="  ", priority="P9"))
    assert page.status_code == 200
    assert page.context["form"].errors.keys() >= {"description", "priority"}
    assert not Case.objects.exists()


def test_several_matches_let_the_operator_choose(client, operator, caller, contract):
    EndUserFactory(
        client=contract.client, first_name="Omonimo", phone="+393480000000", email="shared@x.it"
    )
    caller.email = "shared@x.it"
    caller.save(update_fields=["email"])
    client.force_login(operator)
    client.post(reverse("care:intake"), {"action": "lookup", "query": "shared@x.it"})
    page = client.get(reverse("care:intake")).content.decode()
    assert page.count('name="end_user"') == 2
    client.post(reverse("care:intake-caller"), {"end_user": caller.id, "contract": contract.code})
    assert 'name="category"' in client.get(reverse("care:intake")).content.decode()


def test_the_caller_is_chosen_only_among_what_the_search_found(client, operator, caller, contract):
    """An end user id typed into the form (never searched) must not open their data."""
    stranger = EndUserFactory(client=contract.client, first_name="Estraneo", phone="+393489999999")
    client.force_login(operator)
    client.post(reverse("care:intake"), {"action": "lookup", "query": "3471234567"})
    client.get(reverse("care:intake"))
    response = client.post(
        reverse("care:intake-caller"), {"end_user": stranger.id, "contract": contract.code}
    )
    assert response.status_code == 403
    assert "Estraneo" not in client.get(reverse("care:intake")).content.decode()
    denied = AccessLog.objects.get(route="care:intake-caller")
    assert denied.outcome == AccessLog.Outcome.DENIED


def test_unknown_number_says_so_without_a_form(client, operator, contract):
    client.force_login(operator)
    client.get(reverse("care:intake"), {"phone": "333 000 0000"})
    response = client.get(reverse("care:intake"))
    assert response.context["matches"] == []
    assert response.context["form"] is None


def _open_first_case(client, operator, caller):
    client.force_login(operator)
    client.get(reverse("care:intake"), {"phone": "3471234567"})
    client.get(reverse("care:intake"))
    client.post(reverse("care:intake"), case_form())
    return Case.objects.get()


def test_a_similar_open_case_is_proposed_instead_of_a_new_one(client, operator, caller):
    existing = _open_first_case(client, operator, caller)
    client.get(reverse("care:intake"), {"phone": "3471234567"})
    client.get(reverse("care:intake"))
    page = client.post(reverse("care:intake"), case_form(subject="Ancora roaming"))
    assert page.status_code == 200
    assert [c.reference for c in page.context["similar"]] == [existing.reference]
    assert Case.objects.count() == 1
    # The operator adds the contact to the existing case.
    response = client.post(
        reverse("care:intake"),
        case_form(subject="Ancora roaming", use_case=f"note:{existing.reference}"),
    )
    assert response["Location"] == reverse("care:case-detail", args=[existing.reference])
    assert existing.notes.get().body.startswith("Ancora roaming")
    assert Case.objects.count() == 1


def test_opening_anyway_records_the_reason(client, operator, caller):
    _open_first_case(client, operator, caller)
    client.get(reverse("care:intake"), {"phone": "3471234567"})
    client.get(reverse("care:intake"))
    client.post(reverse("care:intake"), case_form(override_reason="Altro numero coinvolto"))
    new = Case.objects.order_by("-id").first()
    assert Case.objects.count() == 2
    assert new.opening_reason == "Altro numero coinvolto"
    assert new.events.filter(kind=CaseEvent.Kind.DUPLICATE_OVERRIDE).exists()


def test_opening_anyway_without_a_reason_asks_for_it_on_the_field(client, operator, caller):
    _open_first_case(client, operator, caller)
    client.get(reverse("care:intake"), {"phone": "3471234567"})
    client.get(reverse("care:intake"))
    first = client.post(reverse("care:intake"), case_form()).content.decode()
    assert 'name="new_case" value="anyway"' in first
    assert "Indica il motivo" not in first  # shown the similar cases, not yet an error
    page = client.post(reverse("care:intake"), case_form(new_case="anyway"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Indica il motivo per aprire una nuova pratica." in html
    assert re.search(r'aria-invalid="true"[^>]*id="id_override_reason"', html)
    assert Case.objects.count() == 1


def test_a_recently_resolved_case_is_reopened_with_the_new_contact(client, operator, caller):
    existing = _open_first_case(client, operator, caller)
    services.transition_case(
        actor=operator,
        case=existing,
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
    )
    client.get(reverse("care:intake"), {"phone": "3471234567"})
    client.get(reverse("care:intake"))
    client.post(reverse("care:intake"), case_form(use_case=f"reopen:{existing.reference}"))
    existing.refresh_from_db()
    assert existing.status == CaseStatus.IN_PROGRESS
    assert existing.reopen_count == 1
    assert Case.objects.count() == 1


def test_intake_is_for_people_who_handle_cases(client, manager):
    client.force_login(manager)
    assert client.get(reverse("care:intake")).status_code == 403


@pytest.mark.parametrize(
    ("screen_pop", "message"),
    [
        ("anonymous", "non è un numero di telefono valido"),
        ("", "Cerca per telefono, e-mail o matricola"),
        ("3" * 41, "non è un numero di telefono valido"),
        ("%F0%9F%98%80", "non è un numero di telefono valido"),  # an emoji
        ("%00", "non è un numero di telefono valido"),
        ("347%ED%B3%BF", "non è un numero di telefono valido"),  # a lone surrogate's bytes
    ],
)
def test_a_screen_pop_that_is_not_a_number_shows_the_intake_with_a_message_and_the_next_works(
    client, operator, caller, screen_pop, message
):
    client.force_login(operator)
    url = reverse("care:intake")
    response = client.get(f"{url}?phone={screen_pop}", follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert client.get(url).status_code == 200  # a reload too
    response = client.get(url, {"phone": "347 123 4567"}, follow=True)
    assert response.status_code == 200
    assert "Rosalia Amato" in response.content.decode()


def test_past_the_lookup_limit_the_intake_says_so_and_works_again_a_minute_later(
    client, operator, caller, settings, time_machine
):
    settings.LOOKUPS_PER_MINUTE = 2
    client.force_login(operator)
    for _ in range(2):
        client.get(reverse("care:intake"), {"phone": "347 123 4567"}, follow=True)
        client.post(reverse("care:intake"), {"action": "restart"})
    response = client.get(reverse("care:intake"), {"phone": "347 123 4567"}, follow=True)
    assert response.status_code == 200
    assert "Troppe ricerche in un minuto" in response.content.decode()
    assert AccessLog.objects.filter(user=operator, outcome=AccessLog.Outcome.DENIED).exists()
    time_machine.move_to(timezone.now() + timedelta(seconds=121))
    response = client.get(reverse("care:intake"))
    assert response.status_code == 200
    assert "Rosalia Amato" in response.content.decode()


def test_a_caller_with_two_contracts_sees_which_is_which_and_focus_on_their_open_cases_one(
    client, operator, caller, contract, data_contract_with_a_case
):
    client.force_login(operator)
    client.post(reverse("care:intake"), {"action": "lookup", "query": "3471234567"})
    page = client.get(reverse("care:intake")).content.decode()
    choices = re.findall(r'<button type="submit" class="choice".*?</button>', page, re.S)
    assert len(choices) == 2
    mobile, data_choice = sorted(choices, key=lambda c: "RSIC-DATA-2026" in c)
    assert "Mobile" in mobile
    assert "Dati e connettività, Rete fissa" in data_choice
    assert contract.client.name in data_choice
    assert "autofocus" in data_choice  # the contract of their open case
    assert "autofocus" not in mobile
    assert 'name="query" autofocus' not in page


def test_the_subject_defaults_from_the_first_category(client, operator, caller):
    client.force_login(operator)
    client.get(reverse("care:intake") + "?phone=347%20123%204567")
    form = client.get(reverse("care:intake")).context["form"]
    first = form.categories[0]
    assert form["subject"].value() == first.name
    assert form["description"].value() == first.template


def test_the_intake_page_of_a_caller_keeps_its_query_count(
    client, operator, caller, django_assert_max_num_queries
):
    client.force_login(operator)
    client.get(reverse("care:intake") + "?phone=347%20123%204567")
    client.get(reverse("care:intake"))
    with django_assert_max_num_queries(18):  # 22 before the query diet (#25)
        page = client.get(reverse("care:intake"))
    assert page.context["form"]["subject"].value()
