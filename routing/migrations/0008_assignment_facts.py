"""Assignments and "assigned" case events stored English sentences («take-next from queue
mobile-utenti: certified on the contract; waited 4813 min»); they now store facts (how, the
circle, the queue, the minutes waited) said in the reader's language when shown. This turns
the sentences of the known shapes into those facts; a sentence of another shape is kept (and
shown as stored). Re-openings a service gave a reason for ("The customer replied by
e-mail.", "New contact: …", in English or Italian) get their reason code the same way."""

import re

from django.db import migrations

BATCH = 2000
_HOW = {"take-next": "take_next", "auto-assign": "auto_assign", "reassigned": "reassigned"}
_CIRCLES = {
    "certified on the contract": "contract",
    "certified on the client (overflow)": "client",
    "service skill, national overflow": "national",
}
_SENTENCE = re.compile(
    r"^(?P<how>take-next|auto-assign|reassigned) from queue (?P<queue>\S+): "
    r"(?P<circle>[^;]+); waited (?P<waited>\d+) min$"
)
_OVERRIDE = re.compile(
    r"^reassigned by \S+ from queue (?P<queue>\S+): supervisor override; "
    r"waited (?P<waited>\d+) min$"
)
_REPLIED = {"The customer replied by e-mail.", "Il cliente ha risposto per e-mail."}
_NEW_CONTACT = re.compile(r"^(?:New contact|Nuovo contatto): (?P<subject>.*)$", re.DOTALL)


def facts_of(sentence: str) -> dict | None:
    """The facts an old assignment sentence says, or None when it has another shape."""
    sentence = (sentence or "").strip()
    if found := _OVERRIDE.match(sentence):
        how, level = "override", "override"
    elif (found := _SENTENCE.match(sentence)) and found["circle"] in _CIRCLES:
        how, level = _HOW[found["how"]], _CIRCLES[found["circle"]]
    else:
        return None
    queue = "" if found["queue"] == "-" else found["queue"]
    return {"how": how, "level": level, "queue": queue, "waited": int(found["waited"])}


def reopen_facts(reason: str) -> dict | None:
    """The reason code of a re-opening a service gave, or None for a person's words."""
    if reason in _REPLIED:
        return {"reason_code": "customer_replied"}
    if found := _NEW_CONTACT.match(reason or ""):
        return {"reason_code": "new_contact", "subject": found["subject"]}
    return None


def _batches(rows, *fields):
    """The rows in id order, a list of BATCH at a time (each read after the previous batch
    was written: no cursor stays open across writes)."""
    last = 0
    while batch := list(rows.filter(id__gt=last).order_by("id").only("id", *fields)[:BATCH]):
        yield batch
        last = batch[-1].id


def _without_reason(detail: dict, facts: dict) -> dict:
    return {k: v for k, v in detail.items() if k != "reason"} | facts


def forward(apps, schema_editor):
    CaseEvent = apps.get_model("care", "CaseEvent")
    Assignment = apps.get_model("routing", "Assignment")
    assigned = CaseEvent.objects.filter(kind="assigned", detail__has_key="reason")
    for batch in _batches(assigned, "detail"):
        changed = []
        for event in batch:
            reason = event.detail.get("reason", "")
            facts = facts_of(reason)
            if facts is not None or not reason:  # another shape is shown as stored
                event.detail = _without_reason(event.detail, facts or {})
                changed.append(event)
        CaseEvent.objects.bulk_update(changed, ["detail"])
    reopened = CaseEvent.objects.filter(kind="reopened", detail__has_key="reason")
    for batch in _batches(reopened, "detail"):
        changed = []
        for event in batch:
            if (facts := reopen_facts(event.detail.get("reason", ""))) is not None:
                event.detail = _without_reason(event.detail, facts)
                changed.append(event)
        CaseEvent.objects.bulk_update(changed, ["detail"])
    sentences = Assignment.objects.exclude(reason__in=[*_HOW.values(), "override"])
    for batch in _batches(sentences, "reason"):
        changed = []
        for assignment in batch:
            if (facts := facts_of(assignment.reason)) is not None:
                assignment.reason = facts["how"]
                changed.append(assignment)
        Assignment.objects.bulk_update(changed, ["reason"])


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0013_mail"),
        ("routing", "0007_call_open_index"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=True)]
