"""`routing.wording`: decision records said in the reader's language from the rule and facts
the engine stores (no sentence); old entries keep their English sentence."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

from care.wording import Names
from routing import engine, wording

WHYS = [
    engine.Why("client_only", after=10, waited=4),
    engine.Why("skill_only", after=30, waited=12),
    engine.Why("not_tied"),
    engine.BACKOFFICE_KEPT,
    engine.Why("not_available", presence="away"),
    engine.Why("at_capacity", held=3, limit=3),
    engine.Why("idle_less", since="2026-11-29T09:05+00:00"),
    engine.Why("idle_less"),
    engine.Why("became_busy"),
    engine.Why("held_before"),
]


@pytest.mark.parametrize("why", WHYS, ids=lambda why: why.rule)
def test_in_english_every_rule_reads_as_the_stored_sentence(why):
    entry = why.entry("CS-2026-000001")
    assert entry["who"] == "CS-2026-000001"
    assert entry["rule"] == why.rule
    with translation.override("en"):
        said = wording.why_in_words(entry)
    if why.rule == "idle_less":  # a local date and time, not ISO; a dash when unknown
        assert said.startswith("idle for less time (since ")
        assert "T09:05" not in said
    elif why.rule == "not_available":  # the presence's label
        assert said == "not available (Away)"
    else:
        assert said == why.text
    assert "why" not in entry  # facts only: the sentence is said when shown


@pytest.mark.parametrize("why", WHYS, ids=lambda why: why.rule)
def test_in_italian_every_rule_is_translated(why):
    entry = why.entry("op.rossi")
    with translation.override("it"):
        said = wording.why_in_words(entry)
    assert said
    assert said != why.text


def test_italian_wording_keeps_the_facts():
    with translation.override("it"):
        assert wording.why_in_words(engine.Why("at_capacity", held=2, limit=5).entry("x")) == (
            "al limite di capacità (2 casi su 5)"
        )
        assert wording.why_in_words(engine.Why("not_available", presence="away").entry("x")) == (
            "non disponibile (In pausa)"
        )
        assert (
            wording.why_in_words(engine.Why("idle_less", since="2026-11-29T09:05+00:00").entry("x"))
            == "libero da meno tempo (dal 29/11/2026 10:05)"
        )  # Europe/Rome


def test_entries_without_a_rule_or_with_broken_facts_keep_their_sentence():
    with translation.override("it"):
        assert wording.why_in_words({"who": "x", "why": "an old sentence"}) == "an old sentence"
        broken = {"who": "x", "why": "kept", "rule": "client_only"}  # facts missing
        assert wording.why_in_words(broken) == "kept"
        assert wording.why_in_words({"who": "x", "rule": "nonsense"}) == ""


def test_the_reason_is_how_the_queue_s_name_the_circle_and_the_wait_as_people_say_it():
    class Decision:
        kind, level, queue_code = "pull", "client", "top-mobile"
        at = datetime(2026, 11, 29, 10, 42, 30, tzinfo=UTC)

    names = Names(queues={"top-mobile": "TOP mobile"})
    opened_at = datetime(2026, 11, 26, 2, 30, tzinfo=UTC)  # 3 d 8 h 12 min before
    with translation.override("it"):
        assert wording.reason_in_words(Decision, opened_at, names) == (
            "Presa dalla coda «TOP mobile» (certificato sul cliente, overflow)"
            " dopo 3 g 8 h di attesa"
        )
    with translation.override("en"):
        assert wording.reason_in_words(Decision, opened_at, names) == (
            "Taken from the queue “TOP mobile” (certified on the client, overflow) after 3 d 8 h"
        )


@pytest.mark.parametrize(
    ("kind", "level", "italian", "english"),
    [
        ("push", "contract", "Assegnata automaticamente", "Offered automatically"),
        ("manual", "national", "Riassegnata da un supervisore", "Reassigned by a supervisor"),
        ("manual", "override", "Riassegnata da un supervisore", "Reassigned by a supervisor"),
    ],
)
def test_every_kind_of_assignment_has_its_sentence(kind, level, italian, english):
    class Decision:
        queue_code = "top-mobile"
        at = datetime(2026, 11, 29, 10, 45, tzinfo=UTC)

    Decision.kind, Decision.level = kind, level
    names = Names(queues={"top-mobile": "TOP mobile"})
    opened_at = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    with translation.override("it"):
        said = wording.reason_in_words(Decision, opened_at, names)
        assert said.startswith(italian)
        assert said.endswith("dopo 45 min di attesa")
        assert str(wording.care_wording.CIRCLES[level]) in said
    with translation.override("en"):
        said = wording.reason_in_words(Decision, opened_at, names)
        assert said.startswith(english)
        assert said.endswith("after 45 min")


def test_passed_over_durations_read_as_people_say_them():
    entry = engine.Why("skill_only", after=30, waited=200).entry("CS-2026-000001")
    with translation.override("it"):
        assert wording.why_in_words(entry) == (
            "solo competenza sul servizio: overflow nazionale dopo 30 min (in attesa da 3 h 20 min)"
        )
