"""The data migrations that turn the English sentences stored before (assignments, their case
events, re-openings, the back-office pull of an order) into facts; what they cannot parse is
kept and shown as stored, never an error."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from care.models import CaseEvent
from routing import services
from routing.models import Assignment
from tests.routing.test_timeline_wording import page, timeline_of

pytestmark = pytest.mark.django_db

assignment_facts = importlib.import_module("routing.migrations.0008_assignment_facts")
order_facts = importlib.import_module("contracts.migrations.0006_order_owner_facts")

OLD = "take-next from queue generale: certified on the contract; waited 4813 min"


@pytest.mark.parametrize(
    ("sentence", "facts"),
    [
        (OLD, {"how": "take_next", "level": "contract", "queue": "generale", "waited": 4813}),
        (
            "auto-assign from queue mobile-utenti: certified on the client (overflow);"
            " waited 12 min",
            {"how": "auto_assign", "level": "client", "queue": "mobile-utenti", "waited": 12},
        ),
        (
            "reassigned from queue -: service skill, national overflow; waited 0 min",
            {"how": "reassigned", "level": "national", "queue": "", "waited": 0},
        ),
        (
            "reassigned by supervisore from queue pa-mobile: supervisor override; waited 95 min",
            {"how": "override", "level": "override", "queue": "pa-mobile", "waited": 95},
        ),
        ("esperto SIM", None),
        ("take-next from queue x: something new; waited 3 min", None),
        ("", None),
    ],
)
def test_the_known_sentence_shapes_become_facts(sentence, facts):
    assert assignment_facts.facts_of(sentence) == facts


@pytest.fixture
def old_rows(operator, profile_factory, contract, routed_case, now):
    """Two cases taken as before the facts were kept: one with a sentence of a known shape,
    one with words the migration cannot parse; and a re-opening said in Italian."""
    profile_factory(operator, contracts=(contract,))
    known, unknown = routed_case(), routed_case()
    for case, sentence in ((known, OLD), (unknown, "preso a mano dal responsabile")):
        services.take_next_case(operator=operator, now=now)
        CaseEvent.objects.filter(case=case, kind="assigned").update(detail={"reason": sentence})
        Assignment.objects.filter(case=case).update(reason=sentence)
    return known, unknown


def test_old_rows_become_facts_and_the_rest_is_shown_as_stored(client, old_rows, supervisor):
    known, unknown = old_rows
    assignment_facts.forward(apps, None)
    assignment_facts.forward(apps, None)  # twice changes nothing more
    event = CaseEvent.objects.get(case=known, kind="assigned")
    assert event.detail == {
        "how": "take_next",
        "level": "contract",
        "queue": "generale",
        "waited": 4813,
    }
    assert Assignment.objects.get(case=known).reason == "take_next"
    kept = CaseEvent.objects.get(case=unknown, kind="assigned")
    assert kept.detail == {"reason": "preso a mano dal responsabile"}
    assert Assignment.objects.get(case=unknown).reason == "preso a mano dal responsabile"
    client.force_login(supervisor)
    said = " | ".join(timeline_of(page(client, known, "it")))
    assert "(presa dalla coda «Generale» (certificato sul contratto) dopo 3 g 8 h di attesa)" in (
        said
    )
    shown = client.get(reverse("care:case-detail", args=[unknown.reference]))
    assert shown.status_code == 200
    assert "«preso a mano dal responsabile»" in " | ".join(timeline_of(shown))
    why_me = client.get(reverse("routing:case-decisions", args=[unknown.reference]))
    assert why_me.status_code == 200


@pytest.mark.parametrize(
    "reason",
    ["The customer replied by e-mail.", "Il cliente ha risposto per e-mail."],
)
def test_a_reopening_a_service_gave_a_reason_for_gets_its_code(reason):
    assert assignment_facts.reopen_facts(reason) == {"reason_code": "customer_replied"}


def test_a_new_contact_keeps_its_subject_and_a_persons_words_stay():
    assert assignment_facts.reopen_facts("Nuovo contatto: SIM bloccata") == {
        "reason_code": "new_contact",
        "subject": "SIM bloccata",
    }
    assert assignment_facts.reopen_facts("Il cliente richiama") is None
