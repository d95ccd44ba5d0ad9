"""`routing.wording`: decision records said in the reader's language from the rule and facts
the engine stores beside each English sentence; old entries keep their sentence."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

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
        assert said == entry["why"]


@pytest.mark.parametrize("why", WHYS, ids=lambda why: why.rule)
def test_in_italian_every_rule_is_translated(why):
    entry = why.entry("op.rossi")
    with translation.override("it"):
        said = wording.why_in_words(entry)
    assert said
    assert said != entry["why"]


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


def test_the_reason_is_the_level_the_queue_and_the_wait():
    class Decision:
        level, queue_code = "client", "top-mobile"
        at = datetime(2026, 11, 29, 10, 42, 30, tzinfo=UTC)

    opened_at = datetime(2026, 11, 29, 10, 30, tzinfo=UTC)
    with translation.override("it"):
        assert wording.reason_in_words(Decision, opened_at) == (
            "Certificato sul cliente, coda «top-mobile», in attesa da 12 min"
        )
    with translation.override("en"):
        assert wording.reason_in_words(Decision, opened_at) == (
            "Certified on the client, queue “top-mobile”, waiting for 12 min"
        )
