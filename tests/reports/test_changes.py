"""The configuration audit browser: `config.ConfigChange` and the contracts' trail in one
list, newest first; filters on the page and in the API; exports safe from formula injection;
admins and managers only; a page costs a fixed number of queries."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from config.audit import record_change
from config.models import ConfigChange
from contracts.models import AuditEvent
from routing.models import OperatorProfile, Site

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
CHANGED = ConfigChange.Action.CHANGED
CREATED = ConfigChange.Action.CREATED


@pytest.fixture
def history(admin_user, supervisor, operator, now):
    """Three configuration changes on three days and one contracts' event between them."""
    site = Site.objects.create(code="mi", name="Milano", province="MI")
    profile = OperatorProfile.objects.create(user=operator, site=site)
    record_change(
        actor=admin_user,
        now=now - timedelta(days=3),
        target_type="site",
        target_id=site.pk,
        target_label="Milano",
        action=CREATED,
        after={"code": "mi", "name": "Milano"},
    )
    record_change(
        actor=supervisor,
        now=now - timedelta(days=2),
        target_type="profile",
        target_id=profile.pk,
        target_label=operator.username,
        action=CHANGED,
        before={"capacity": 5, "remote": False, "site": site.pk},
        after={"capacity": 8, "remote": True, "site": site.pk},
        reason='=HYPERLINK("http://x")',
    )
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.CLIENT_UPDATED,
        at=now - timedelta(days=1, hours=12),
        actor=admin_user,
        summary="Regione Siciliana",
    )
    AuditEvent.objects.create(  # an end user is no configuration: not listed
        kind=AuditEvent.Kind.END_USER_CREATED, at=now - timedelta(days=1), summary="Rossi"
    )
    record_change(
        actor=admin_user,
        now=now - timedelta(hours=1),
        target_type="site",
        target_id=site.pk,
        target_label="@Milano",
        action=CHANGED,
        before={"name": "Milano"},
        after={"name": "@Milano"},
    )
    return {"site": site, "profile": profile}


def page(client, user, **query):
    client.force_login(user)
    return client.get(reverse("reports:change-list"), query)


def test_both_sources_in_one_list_newest_first(client, manager, history):
    response = page(client, manager)
    assert response.status_code == 200
    rows = response.context["page"].object_list
    assert [(r["source"], r["target_type"]) for r in rows] == [
        ("config", "site"),
        ("contracts", "client"),
        ("config", "profile"),
        ("config", "site"),
    ]
    assert "Rossi" not in response.content.decode()


def test_a_row_says_the_changed_fields_in_words(client, manager, history):
    rows = page(client, manager, what="profile").context["page"].object_list
    (row,) = rows
    assert [(c["label"], c["before"], c["after"]) for c in row["changes"]] == [
        ("capacità (pratiche contemporanee)", "5", "8"),
        ("lavora da remoto", "no", "sì"),
    ]
    assert (
        row["changes_text"] == "capacità (pratiche contemporanee): 5 → 8; lavora da remoto: no → sì"
    )
    assert row["actor_username"] == "sup.neri"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"what": "site"}, 2),
        ({"what": "client"}, 1),
        ({"who": "SUP.NERI"}, 1),
        ({"action": "created"}, 1),
        ({"q": "milano"}, 2),
        ({"from": "2026-12-01", "to": "2026-12-02"}, 1),
        ({"from": "2026-11-29", "to": "2026-11-30"}, 3),
    ],
)
def test_the_filters(client, manager, history, query, expected):
    response = page(client, manager, **query)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == expected


def test_a_target_id_finds_its_changes(client, manager, history):
    rows = page(client, manager, q=str(history["profile"].pk)).context["page"].object_list
    assert {r["target_type"] for r in rows} >= {"profile"}


def test_bad_filters_are_a_form_error(client, manager, history):
    response = page(client, manager, what="nothing", **{"from": "2026-12-02", "to": "2026-12-01"})
    assert response.status_code == 400
    assert response.context["form"].errors


def test_only_admins_and_managers_browse_it(client, operator, supervisor, admin_user):
    assert page(client, operator).status_code == 403
    assert page(client, supervisor).status_code == 403
    assert page(client, admin_user).status_code == 200


def test_a_page_costs_a_fixed_number_of_queries(
    client, manager, history, now, django_assert_max_num_queries
):
    for n in range(60):
        record_change(
            actor=manager,
            now=now - timedelta(minutes=n),
            target_type="queue",
            target_id=n,
            target_label=f"coda {n}",
            action=CHANGED,
            before={"name": "a"},
            after={"name": f"b{n}"},
        )
    client.force_login(manager)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("reports:change-list"))
    assert len(response.context["page"].object_list) == 50
    second = client.get(reverse("reports:change-list"), {"page": 2})
    assert len(second.context["page"].object_list) == 64 - 50


def test_the_csv_export_is_safe_from_formula_injection(client, manager, history):
    response = page(client, manager, export="csv", sep="comma")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 1 + 4
    cells = [cell for row in rows for cell in row]
    assert "'@Milano" in cells
    assert '\'=HYPERLINK("http://x")' in cells
    assert not [cell for cell in cells if cell.startswith(("=", "@", "+"))]


def test_the_xlsx_export_writes_text_never_formulas(client, manager, history):
    response = page(client, manager, export="xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    values = [cell.value for row in book.active.iter_rows() for cell in row]
    assert "'@Milano" in values or "@Milano" not in values
    assert not [v for v in values if isinstance(v, str) and v.startswith("=")]


def test_the_api_lists_with_the_same_filters(manager_api, history):
    response = manager_api.get("/api/v1/changes/", {"what": "profile"})
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 1
    (row,) = data["results"]
    assert row["action"] == "changed"
    assert row["target_type"] == "profile"
    assert row["changes"][0] == {
        "field": "capacity",
        "label": row["changes"][0]["label"],
        "before": "5",
        "after": "8",
    }
    assert datetime.fromisoformat(row["at"]).utcoffset() is not None


def test_the_api_answers_under_the_design_name_too(admin_api, history):
    response = admin_api.get("/api/v1/audit/", {"what": "site", "action": "created"})
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_the_api_pages_and_exports(manager_api, history):
    first = manager_api.get("/api/v1/changes/", {"page_size": 3}).json()
    second = manager_api.get("/api/v1/changes/", {"page_size": 3, "page": 2}).json()
    assert first["count"] == 4
    assert len(first["results"]) == 3
    assert len(second["results"]) == 1
    export = manager_api.get("/api/v1/changes/", {"format": "csv"})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")


def test_the_api_refuses_bad_input_and_other_roles(manager_api, supervisor_api, history):
    bad = manager_api.get("/api/v1/changes/", {"from": "2026-13-01"})
    assert bad.status_code == 400
    assert bad.json()["code"]
    assert manager_api.get("/api/v1/changes/", {"format": "pdf"}).status_code == 400
    denied = supervisor_api.get("/api/v1/changes/")
    assert denied.status_code == 403
    assert denied.json()["code"]


def test_values_naming_a_site_or_a_user_show_its_name(client, manager, operator, now):
    milano = Site.objects.create(code="mi", name="Milano", province="MI")
    palermo = Site.objects.create(code="pa", name="Palermo", province="PA")
    record_change(
        actor=manager,
        now=now,
        target_type="site",
        target_id=palermo.pk,
        target_label="Palermo",
        action=CHANGED,
        before={"supervisors": []},
        after={"supervisors": [operator.pk]},
    )
    profile = OperatorProfile.objects.create(user=operator, site=palermo)
    record_change(
        actor=manager,
        now=now,
        target_type="profile",
        target_id=profile.pk,
        action=CHANGED,
        before={"site": milano.pk},
        after={"site": palermo.pk},
    )
    rows = page(client, manager).context["page"].object_list
    texts = {row["target_type"]: row["changes_text"] for row in rows}
    assert texts["profile"].endswith(": Milano → Palermo")
    assert texts["site"].endswith(f": — → {operator.username}")
