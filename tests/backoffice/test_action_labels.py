"""Buttons say what they do, in Italian and in English, from one mapping (config.actions);
a refused order or loyalty form comes back with the field at fault highlighted; a count of
one reads singular (#19 points 9 and 10)."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client

from care import services as care_services
from care.models import CaseStatus
from config import actions
from contracts.models import LoyaltyItem, OrderState
from contracts.orders import services as order_services
from tests.factories import CLOSING_CODE

pytestmark = pytest.mark.django_db

BUTTON = re.compile(
    r'<(?:button|summary)[^>]*class="(?P<css>[^"]*)"[^>]*data-testid="(?P<id>[^"]+)"[^>]*>'
    r"(?P<label>[^<]*)<"
    r'|<summary class="(?P<scss>[^"]*)">(?P<slabel>[^<]*)</summary>'
)


def buttons(html: str) -> dict[str, tuple[str, str]]:
    """test id (or "summary:<label>") -> (label, css class) of each button of the page."""
    found = {}
    for match in BUTTON.finditer(html):
        if match["id"]:
            found[match["id"]] = (unescape(match["label"]).strip(), match["css"])
        else:
            label = unescape(match["slabel"]).strip()
            found[f"summary:{label}"] = (label, match["scss"])
    return found


def signed_in(user, language: str = "it") -> Client:
    client = Client()
    client.cookies["django_language"] = language
    client.force_login(user)
    return client


def page_buttons(user, url: str, language: str = "it") -> dict:
    response = signed_in(user, language).get(url)
    assert response.status_code == 200
    return buttons(response.content.decode())


# --- The mapping ----------------------------------------------------------------------------


def test_every_move_of_cases_and_orders_has_an_action_that_is_not_the_state_name():
    from django.utils import translation

    for source, targets in care_services.TRANSITIONS.items():
        for target in targets:
            action = actions.action_for(actions.CASE, target, from_state=source)
            with translation.override("it"):
                assert str(action.label) != str(CaseStatus(target).label)
    for targets in order_services.TRANSITIONS.values():
        for target in targets:
            action = actions.action_for(actions.ORDER, target)
            with translation.override("it"):
                assert str(action.label) != str(OrderState(target).label)
    destructive = {to for (what, _f, to), a in actions.ACTIONS.items() if a.style == "danger"}
    assert destructive == {"rejected", "cancelled", "lost"}
    assert all(a.asks_reason for a in actions.ACTIONS.values() if a.style == "danger")


# --- Case page ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "it",
            {
                "move-in_progress": "Prendi in carico",
                "move-waiting_customer": "Metti in attesa del cliente",
                "move-new": "Rimetti in coda",
                "move-resolved": "Risolvi la pratica",
            },
        ),
        (
            "en",
            {
                "move-in_progress": "Take in charge",
                "move-waiting_customer": "Wait for the customer",
                "move-new": "Give back to the queue",
                "move-resolved": "Resolve the case",
            },
        ),
    ],
)
def test_an_assigned_case_offers_actions_not_states(
    language, expected, open_case_for, end_user, operator, supervisor
):
    case = open_case_for(end_user, channel="email")
    case = care_services.assign_case(actor=supervisor, case=case, assignee=operator)
    assert case.status == CaseStatus.ASSIGNED
    found = page_buttons(operator, f"/care/cases/{case.reference}/", language)
    assert {key: found[key][0] for key in expected} == expected
    assert "Nuova" not in {label for label, _css in found.values()}


def test_a_case_waiting_for_the_customer_is_resumed_and_a_resolved_one_closed_or_reopened(
    open_case_for, end_user, operator
):
    case = open_case_for(end_user)
    case = care_services.transition_case(actor=operator, case=case, to="waiting_customer")
    found = page_buttons(operator, f"/care/cases/{case.reference}/")
    assert found["move-in_progress"][0] == "Riprendi"
    case = care_services.transition_case(
        actor=operator, case=case, to="resolved", resolution_code=CLOSING_CODE
    )
    found = page_buttons(operator, f"/care/cases/{case.reference}/")
    assert found["move-closed"][0] == "Chiudi"
    assert found["reopen-submit"][0] == "Riapri la pratica"
    english = page_buttons(operator, f"/care/cases/{case.reference}/", "en")
    assert (english["move-closed"][0], english["reopen-submit"][0]) == ("Close", "Reopen the case")


# --- Order page -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("it", ["Invia in validazione", "Valida", "Avvia attivazione", "Completa"]),
        ("en", ["Send for validation", "Validate", "Start provisioning", "Complete"]),
    ],
)
def test_the_order_buttons_say_what_they_do_at_each_step(
    language, labels, order_factory, backoffice_user, other_backoffice
):
    order = order_factory()
    for step, state in enumerate(["submitted", "validated", "provisioning", "completed"]):
        viewer = other_backoffice if state == "validated" else backoffice_user
        found = page_buttons(viewer, f"/backoffice/orders/{order.reference}/", language)
        assert found[f"order-move-{state}"] == (labels[step], "button-primary")
        cancel = "Annulla ordine…" if language == "it" else "Cancel order…"
        assert found[f"summary:{cancel}"][1] == "button-danger"
        order = order_services.transition_order(actor=viewer, order=order, to=state)


def test_cancelling_and_rejecting_look_destructive_and_confirm_with_their_action(
    submitted_order, other_backoffice
):
    found = page_buttons(other_backoffice, f"/backoffice/orders/{submitted_order.reference}/")
    assert found["summary:Respingi…"][1] == "button-danger"
    assert found["order-move-rejected"] == ("Respingi l'ordine", "button-danger")
    assert found["order-move-cancelled"] == ("Annulla l'ordine", "button-danger")
    assert found["order-move-validated"] == ("Valida", "button-primary")
    assert "Annullato" not in {label for label, _css in found.values()}


# --- Cancel without a reason: the field is highlighted --------------------------------------


def test_cancelling_without_a_reason_reopens_the_form_with_the_reason_highlighted(
    submitted_order, backoffice_user
):
    client = signed_in(backoffice_user)
    url = f"/backoffice/orders/{submitted_order.reference}/"
    response = client.post(
        url + "transition/",
        {"to": "cancelled", "row_version": submitted_order.row_version, "reason": " "},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url + "#move:cancelled"  # the page's address
    html = response.content.decode()
    details = re.search(r'<details[^>]*id="move:cancelled"[^>]*>', html)[0]
    assert " open" in details
    field = re.search(r'<textarea[^>]*name="reason"[^>]*id="id_cancelled_reason"[^>]*>', html)
    assert field is not None
    assert 'aria-invalid="true"' in field[0]
    assert 'aria-describedby="id_cancelled_reason_error"' in field[0]
    error = re.search(r'id="id_cancelled_reason_error"[^>]*>(.*?)</ul>', html, re.S)
    assert "Indica il motivo" in error[1] or "motivo" in error[1]
    # The other destructive form stays closed and unmarked; a reload shows no error again.
    assert 'id="id_rejected_reason"' in html
    assert 'aria-describedby="id_rejected_reason_error"' not in html
    again = client.get(url).content.decode()
    assert 'aria-invalid="true"' not in again
    submitted_order.refresh_from_db()
    assert submitted_order.state == "submitted"


def test_an_empty_note_comes_back_with_the_note_field_highlighted(submitted_order, backoffice_user):
    client = signed_in(backoffice_user)
    url = f"/backoffice/orders/{submitted_order.reference}/"
    response = client.post(url + "notes/", {"body": "", "visibility": "internal"}, follow=True)
    html = response.content.decode()
    field = re.search(r'<textarea[^>]*name="body"[^>]*>', html)[0]
    assert 'aria-invalid="true"' in field
    assert 'id="id_body_error"' in html


def test_a_refused_document_comes_back_with_the_file_field_highlighted(
    submitted_order, backoffice_user
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = signed_in(backoffice_user)
    url = f"/backoffice/orders/{submitted_order.reference}/"
    upload = SimpleUploadedFile("virus.exe", b"MZ\x90\x00 eseguibile")
    response = client.post(url + "documents/", {"file": upload}, follow=True)
    html = response.content.decode()
    field = re.search(r'<input[^>]*name="file"[^>]*>', html)[0]
    assert 'aria-invalid="true"' in field
    assert submitted_order.documents.count() == 0


# --- Loyalty page ---------------------------------------------------------------------------


@pytest.fixture
def loyalty_item(contract):
    order_services.feed_loyalty_worklist(today=contract.valid_to - timedelta(days=30))
    return LoyaltyItem.objects.get()


def test_the_loyalty_outcomes_say_what_they_do_and_lost_asks_first(loyalty_item, backoffice_user):
    url = f"/backoffice/loyalty/{loyalty_item.id}/"
    found = page_buttons(backoffice_user, url)
    assert found["loyalty-close-renewed"] == ("Segna come rinnovato", "button-primary")
    assert found["loyalty-close-renegotiated"][0] == "Segna come rinegoziato"
    assert found["summary:Segna come perso…"][1] == "button-danger"
    assert found["loyalty-close-lost"] == ("Conferma: il contratto è perso", "button-danger")
    english = page_buttons(backoffice_user, url, "en")
    assert english["loyalty-close-renewed"][0] == "Mark as renewed"
    assert "summary:Mark as lost…" in english


def test_a_loyalty_action_without_its_kind_comes_back_with_the_field_highlighted(
    loyalty_item, backoffice_user
):
    client = signed_in(backoffice_user)
    url = f"/backoffice/loyalty/{loyalty_item.id}/"
    response = client.post(url + "actions/", {"action-kind": "", "action-note": "x"}, follow=True)
    assert response.redirect_chain[-1][0] == url + "#action_form"
    html = response.content.decode()
    field = re.search(r'<select[^>]*name="action-kind"[^>]*>', html)[0]
    assert 'aria-invalid="true"' in field
    assert 'aria-describedby="id_action-kind_error"' in field
    assert "x</textarea>" in html  # what was typed is kept


def test_closing_a_loyalty_item_as_lost_records_it(loyalty_item, backoffice_user):
    client = signed_in(backoffice_user)
    url = f"/backoffice/loyalty/{loyalty_item.id}/"
    client.post(url + "close/", {"close-outcome": "lost", "close-note": "Gara persa"})
    loyalty_item.refresh_from_db()
    assert (loyalty_item.outcome, loyalty_item.outcome_note) == ("lost", "Gara persa")


# --- Plurals --------------------------------------------------------------------------------


def test_one_completed_order_reads_singular():
    from django.utils import translation

    with translation.override("it"):
        assert str(OrderState.COMPLETED.label) == "Completato"
        assert str(OrderState.CANCELLED.label) == "Annullato"


def test_counts_of_one_read_singular_in_italian():
    from django.utils import translation
    from django.utils.translation import ngettext

    with translation.override("it"):
        one = ngettext("%(n)s case resolved", "%(n)s cases resolved", 1) % {"n": 1}
        two = ngettext("%(n)s case resolved", "%(n)s cases resolved", 2) % {"n": 2}
        imported = ngettext("%(n)s end user imported.", "%(n)s end users imported.", 1)
    assert (one, two) == ("1 pratica risolta", "2 pratiche risolte")
    assert imported % {"n": 1} == "1 utente finale importato."


def test_the_order_page_of_a_completed_order_says_completato(
    submitted_order, backoffice_user, other_backoffice
):
    order = order_services.transition_order(
        actor=other_backoffice, order=submitted_order, to="validated"
    )
    for state in ("provisioning", "completed"):
        order = order_services.transition_order(actor=backoffice_user, order=order, to=state)
    html = signed_in(backoffice_user).get(f"/backoffice/orders/{order.reference}/").content
    assert 'data-state="completed">Completato<' in html.decode()
