"""Saved replies in the configuration audit: a team or contract reply's creation, change and
deletion (page and API) each write one configuration change (target "saved_reply") with its
values before and after, shown in the audit browser with its filter. A personal reply stays
its owner's: its writes are not recorded, its title and text never."""

import pytest
from django.urls import reverse

from care import replies
from config.models import ConfigChange
from routing.models import DEFAULT_QUEUE
from tests.care.test_replies import GREETING, reply

pytestmark = pytest.mark.django_db


def reply_changes():
    return list(
        ConfigChange.objects.filter(target_type="saved_reply")
        .order_by("id")
        .values("actor", "action", "target_label", "before", "after")
    )


def test_the_api_records_a_team_replys_creation_change_and_deletion(
    supervisor_api, queue_supervisor
):
    created = supervisor_api.post(
        "/api/v1/replies/",
        {"scope": "team", "queue": DEFAULT_QUEUE, "title": "Coda", "body": GREETING},
        format="json",
    )
    assert created.status_code == 201, created.json()
    url = f"/api/v1/replies/{created.json()['id']}/"
    assert supervisor_api.patch(url, {"title": "Coda 2"}, format="json").status_code == 200
    refused = supervisor_api.patch(url, {"body": "{{ boh }}"}, format="json")
    assert refused.status_code == 400
    assert supervisor_api.delete(url).status_code == 204
    values = {
        "scope": "team",
        "title": "Coda",
        "body": GREETING,
        "contract": "",
        "queue": DEFAULT_QUEUE,
    }
    assert reply_changes() == [
        {
            "actor": queue_supervisor.id,
            "action": "created",
            "target_label": "Coda",
            "before": {},
            "after": values,
        },
        {
            "actor": queue_supervisor.id,
            "action": "changed",
            "target_label": "Coda 2",
            "before": values,
            "after": values | {"title": "Coda 2"},
        },
        {
            "actor": queue_supervisor.id,
            "action": "deleted",
            "target_label": "Coda 2",
            "before": values | {"title": "Coda 2"},
            "after": {},
        },
    ]


def test_the_pages_record_a_contract_replys_creation_change_and_deletion(client, manager, contract):
    client.force_login(manager)
    url = reverse("care:reply-list")
    data = {"scope": "contract", "contract": contract.code, "title": "Saluto", "body": "Ciao"}
    assert client.post(url, data).status_code == 302
    saved = ConfigChange.objects.get(target_type="saved_reply")
    assert (saved.action, saved.after["contract"], saved.after["title"]) == (
        "created",
        contract.code,
        "Saluto",
    )
    reply_id = int(saved.target_id)
    edited = client.post(reverse("care:reply-edit", args=[reply_id]), data | {"body": "Salve"})
    assert edited.status_code == 302
    client.post(reverse("care:reply-delete", args=[reply_id]))
    rows = reply_changes()
    assert [row["action"] for row in rows] == ["created", "changed", "deleted"]
    assert (rows[1]["before"]["body"], rows[1]["after"]["body"]) == ("Ciao", "Salve")


def test_a_refused_write_records_nothing(client, operator, contract):
    client.force_login(operator)
    data = {"scope": "contract", "contract": contract.code, "title": "X", "body": "x"}
    assert client.post(reverse("care:reply-list"), data).status_code == 400
    assert reply_changes() == []


def test_a_personal_reply_is_not_recorded_and_its_text_never_is(queue_supervisor):
    mine = reply(queue_supervisor, title="Privata", body="Testo mio")
    replies.update_reply(
        actor=queue_supervisor,
        reply=mine,
        data=replies.ReplyData(title="Sempre mia", given=("title",)),
    )
    assert reply_changes() == []
    shared = replies.update_reply(
        actor=queue_supervisor,
        reply=mine,
        data=replies.ReplyData(scope="team", queue=DEFAULT_QUEUE, given=("scope", "queue")),
    )
    replies.update_reply(
        actor=queue_supervisor,
        reply=shared,
        data=replies.ReplyData(scope="personal", given=("scope",)),
    )
    replies.delete_reply(actor=queue_supervisor, reply=shared)
    rows = reply_changes()
    assert [row["action"] for row in rows] == ["changed", "changed"]
    personal = {"scope": "personal", "owner": queue_supervisor.id}
    assert rows[0]["before"] == personal
    assert rows[0]["after"]["title"] == "Sempre mia"  # now the team's: on record
    assert rows[1]["after"] == personal
    assert all(row["target_label"] == "Sempre mia" for row in rows)
    assert "Testo mio" not in str(rows[0]["before"]) + str(rows[1]["after"])


def test_the_audit_browser_lists_saved_replies_under_their_filter(
    client, manager, contract, admin_user
):
    replies.create_reply(
        actor=manager,
        data=replies.ReplyData(scope="contract", contract=contract.code, title="Saluto", body="x"),
    )
    client.force_login(admin_user)
    response = client.get(reverse("reports:change-list"), {"what": "saved_reply"})
    assert response.status_code == 200
    (row,) = response.context["page"].object_list
    assert row["target_type"] == "saved_reply"
    text = response.content.decode()
    assert "risposta predefinita" in text
    assert 'value="saved_reply"' in text
    labels = [c["label"] for c in row["changes"]]
    assert "titolo" in labels
