"""`care.wording`: each kind of case event said in the reader's language from its facts, with
people's and queues' names; a reason a person typed is quoted, an old sentence kept."""

import pytest
from django.utils import translation

from care.models import CaseEvent
from care.wording import Names, event_in_words

NAMES = Names(
    people={14: "Mario Rossi", 15: "Anna Bianchi"},
    usernames={"op14": "Mario Rossi", "op15": "Anna Bianchi"},
    queues={"mobile-utenti": "Mobile utenti", "generale": "Generale"},
    units={"assurance": "Assurance rete"},
)


def event(kind, from_value="", to_value="", **detail) -> CaseEvent:
    return CaseEvent(kind=kind, from_value=from_value, to_value=to_value, detail=detail)


ASSIGNED = {"assignee": 15, "previous": 14, "level": "contract", "queue": "mobile-utenti"}

KINDS = [
    (
        event("assigned", "op14", "op15", how="take_next", waited=4813, **ASSIGNED),
        "Assegnata: Mario Rossi → Anna Bianchi (presa dalla coda «Mobile utenti»"
        " (certificato sul contratto) dopo 3 g 8 h di attesa)",
        "Assigned: Mario Rossi → Anna Bianchi (taken from the queue “Mobile utenti”"
        " (certified on the contract) after 3 d 8 h)",
    ),
    (
        event("assigned", "", "op15", how="auto_assign", waited=45, assignee=15, level="client"),
        "Assegnata: Anna Bianchi (assegnata automaticamente senza coda"
        " (certificato sul cliente, overflow) dopo 45 min di attesa)",
        "Assigned: Anna Bianchi (offered automatically with no queue"
        " (certified on the client, overflow) after 45 min)",
    ),
    (
        event(
            "assigned",
            "op14",
            "op15",
            how="override",
            waited=125,
            override_reason="Parla tedesco",
            **(ASSIGNED | {"level": "override"}),
        ),
        "Assegnata: Mario Rossi → Anna Bianchi (riassegnata da un supervisore dalla coda"
        " «Mobile utenti» (deroga del supervisore) dopo 2 h 5 min di attesa: Parla tedesco)",
        "Assigned: Mario Rossi → Anna Bianchi (reassigned by a supervisor from the queue"
        " “Mobile utenti” (supervisor override) after 2 h 5 min: Parla tedesco)",
    ),
    (
        event("assigned", "", "op14", how="call", call="c-1", assignee=14),
        "Assegnata: Mario Rossi (tenuta da chi ha risposto alla chiamata)",
        "Assigned: Mario Rossi (kept by whoever answered the call)",
    ),
    (
        event("sla_breached", "ok", "breached", target="resolution"),
        "SLA violato: Risoluzione: In tempo → Violato",
        "SLA breached: Resolution: On time → Breached",
    ),
    (
        event("sla_at_risk", "ok", "at_risk", target="first_response"),
        "SLA a rischio: Prima risposta: In tempo → A rischio",
        "SLA at risk: First response: On time → At risk",
    ),
    (
        event("queue_changed", "generale", "mobile-utenti"),
        "Coda cambiata: Generale → Mobile utenti",
        "Queue changed: Generale → Mobile utenti",
    ),
    (
        event("reopened", "resolved", "in_progress", reason_code="customer_replied"),
        "Riaperta: Risolta → In lavorazione (Il cliente ha risposto per e-mail.)",
        "Reopened: Resolved → In progress (The customer replied by e-mail.)",
    ),
    (
        event("reopened", "closed", "in_progress", reason="Richiama ancora"),
        "Riaperta: Chiusa → In lavorazione «Richiama ancora»",
        "Reopened: Closed → In progress «Richiama ancora»",
    ),
    (
        event("handoff_sent", "in_progress", "waiting_unit", unit="assurance"),
        None,
        "Forwarded to a unit: In progress → Waiting for another unit · Assurance rete",
    ),
    (event("mail_out", "", "ack"), None, "E-mail sent: Acknowledgement"),
    (
        event("assigned", "", "op14", how="take_next", waited=0, assignee=14, level="national"),
        "Assegnata: Mario Rossi (presa senza coda (competenza sul servizio, overflow nazionale)"
        " senza attesa)",
        "Assigned: Mario Rossi (taken with no queue (service skill, national overflow) at once)",
    ),
]


@pytest.mark.parametrize(
    ("shown", "italian", "english"),
    KINDS,
    ids=[f"{e.kind}-{n}" for n, (e, _i, _e) in enumerate(KINDS)],
)
def test_every_kind_of_event_is_said_in_the_readers_language(shown, italian, english):
    with translation.override("en"):
        assert event_in_words(shown, NAMES)["text"] == english
    with translation.override("it"):
        said = event_in_words(shown, NAMES)["text"]
    if italian is not None:
        assert said == italian
    assert said != english


def test_an_old_sentence_is_shown_as_stored_and_unknown_names_as_stored():
    old = event("assigned", "op99", "op15", reason="auto-assign from queue x: something else")
    with translation.override("it"):
        said = event_in_words(old, NAMES)
    assert said["change"] == "op99 → Anna Bianchi"
    assert said["reason"] == "auto-assign from queue x: something else"
    assert said["quoted"]
