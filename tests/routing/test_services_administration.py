"""Sites and queues set up by the unit (issue #20 point 2): the rules, the audit rows, every
bad input refused with nothing written, waiting cases re-filed on a criteria change, archive
versus delete, and emergencies in the configuration audit."""

from datetime import UTC, timedelta

import pytest

from care.models import Case, CaseEvent
from config import roles
from config.models import ConfigChange
from routing import administration, services
from routing.exceptions import (
    InvalidRoutingData,
    QueueHasCases,
    QueueHasWaitingCases,
    SetupNotAllowed,
    SiteHasOperators,
)
from routing.models import DEFAULT_QUEUE, OperatorProfile, Queue, Site


@pytest.fixture
def supervisor(user_factory):
    """A supervisor who runs no site or queue yet (not the routing fixture, which runs the
    home site): these tests give them what they set up."""
    return user_factory("sup.neri", roles.SUPERVISOR)


pytestmark = pytest.mark.django_db


def _changes(target_type: str) -> list[ConfigChange]:
    return list(ConfigChange.objects.filter(target_type=target_type).order_by("id"))


@pytest.fixture
def site(admin_user, supervisor, office_calendar, now):
    return administration.create_site(
        actor=admin_user,
        now=now,
        values={
            "code": "mi",
            "name": "Milano",
            "province": "mi",
            "calendar": office_calendar.id,
            "supervisors": [supervisor.id],
        },
    )


# --- Sites ----------------------------------------------------------------------------------


def test_an_administrator_creates_a_site_and_the_audit_keeps_it(
    site, admin_user, supervisor, office_calendar
):
    assert site.province == "MI"
    assert list(site.supervisors.all()) == [supervisor]
    (row,) = _changes("site")
    assert (row.action, row.target_id, row.actor) == ("created", "mi", admin_user)
    assert row.before == {}
    assert row.after == {
        "code": "mi",
        "name": "Milano",
        "province": "MI",
        "calendar": office_calendar.id,
        "supervisors": [supervisor.id],
    }


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"code": "", "name": "X", "province": "MI"}, "code"),
        ({"code": "mi", "name": "X", "province": "MI"}, "code"),  # taken
        ({"code": "new", "name": "X", "province": "MI"}, "code"),  # the pages' address
        ({"code": "to", "name": "", "province": "TO"}, "name"),
        ({"code": "to", "name": "Torino", "province": "XX"}, "province"),
        ({"code": "to", "name": "Torino", "province": "TO", "calendar": 999999}, "calendar"),
    ],
)
def test_a_bad_site_is_refused_beside_its_field_and_nothing_is_written(
    site, admin_user, now, values, field
):
    with pytest.raises(InvalidRoutingData) as refused:
        administration.create_site(actor=admin_user, now=now, values=values)
    assert field in refused.value.fields
    assert Site.objects.count() == 1
    assert len(_changes("site")) == 1


def test_a_site_supervisor_must_hold_the_supervisor_role(admin_user, operator, now):
    with pytest.raises(InvalidRoutingData) as refused:
        administration.create_site(
            actor=admin_user,
            now=now,
            values={"code": "to", "name": "Torino", "province": "TO", "supervisors": [operator.id]},
        )
    assert "supervisors" in refused.value.fields
    assert not Site.objects.exists()


def test_the_sites_supervisor_changes_its_name_but_not_its_supervisors(site, supervisor, now):
    site = administration.update_site(
        actor=supervisor, site=site, now=now, changes={"name": "Milano Bicocca"}
    )
    assert site.name == "Milano Bicocca"
    row = _changes("site")[-1]
    assert (row.action, row.actor) == ("changed", supervisor)
    assert (row.before["name"], row.after["name"]) == ("Milano", "Milano Bicocca")
    with pytest.raises(SetupNotAllowed) as refused:
        administration.update_site(
            actor=supervisor, site=site, now=now, changes={"supervisors": []}
        )
    assert "supervisors" in refused.value.fields


def test_another_supervisor_may_not_change_the_site(site, user_factory, now):
    other = user_factory("sup.altro", "supervisore")
    with pytest.raises(SetupNotAllowed):
        administration.update_site(actor=other, site=site, now=now, changes={"name": "Mia"})
    assert Site.objects.get().name == "Milano"


def test_a_site_with_operators_is_not_deleted_an_empty_one_is(site, admin_user, operator, now):
    OperatorProfile.objects.create(user=operator, site=site)
    with pytest.raises(SiteHasOperators):
        administration.delete_site(actor=admin_user, site=site, now=now)
    assert Site.objects.filter(code="mi").exists()
    OperatorProfile.objects.filter(user=operator).update(site=None)
    administration.delete_site(actor=admin_user, site=site, now=now)
    assert not Site.objects.exists()
    row = _changes("site")[-1]
    assert (row.action, row.target_id, row.before["name"], row.after) == (
        "deleted",
        "mi",
        "Milano",
        {},
    )


# --- Queues ---------------------------------------------------------------------------------


def _queue(actor, now, **values) -> Queue:
    return administration.create_queue(actor=actor, now=now, values=values).queue


def test_a_manager_creates_a_queue_with_criteria_and_the_audit_keeps_it(
    manager, client_pa, contract, supervisor, now
):
    queue = _queue(
        manager,
        now,
        code="pa-sim",
        name="PA SIM",
        segment="PA",
        category_codes=["sim-lost", "sim-lost"],
        client=client_pa.id,
        language="de",
        supervisors=[supervisor.id],
    )
    assert (queue.segment, queue.category_codes, queue.client_id) == (
        "PA",
        ["sim-lost"],
        client_pa.id,
    )
    (row,) = _changes("queue")
    assert (row.action, row.actor, row.target_id) == ("created", manager, "pa-sim")
    assert row.after["language"] == "de"
    assert row.after["supervisors"] == [supervisor.id]
    assert row.after["waiting_cases_moved"] == 0


@pytest.fixture
def catch_all(manager, default_queue, now):
    """The default queue takes every case: a second queue without criteria is refused."""
    return default_queue


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({}, "criteria"),  # a second catch-all
        ({"category_codes": ["no-such-category"]}, "category_codes"),
        ({"segment": "TOP", "client": "client_pa"}, "client"),  # the client is PA
        ({"client": 999999}, "client"),
        (
            {"overflow_client_minutes": 40, "overflow_national_minutes": 30},
            "overflow_client_minutes",
        ),
        ({"service_level_target": 101, "segment": "PA"}, "service_level_target"),
        ({"wrap_up_seconds": -1, "segment": "PA"}, "wrap_up_seconds"),
        ({"language": "xx", "segment": "PA"}, "language"),
        ({"segment": "XL"}, "segment"),
        ({"service": "telepathy"}, "service"),
    ],
)
def test_a_bad_queue_is_refused_beside_its_field_and_nothing_is_written(
    catch_all, manager, client_pa, now, values, field
):
    values = {k: (client_pa.id if v == "client_pa" else v) for k, v in values.items()}
    with pytest.raises(InvalidRoutingData) as refused:
        _queue(manager, now, code="nuova", name="Nuova", **values)
    assert field in refused.value.fields, refused.value.fields
    assert list(Queue.objects.values_list("code", flat=True)) == [DEFAULT_QUEUE]
    assert _changes("queue") == []


def test_criteria_identical_to_another_queue_are_refused_as_ambiguous(
    catch_all, manager, contract, now
):
    _queue(
        manager, now, code="pa-roaming", name="PA roaming", segment="PA", category_codes=["roaming"]
    )
    with pytest.raises(InvalidRoutingData) as refused:
        _queue(manager, now, code="bis", name="Bis", segment="PA", category_codes=["roaming"])
    assert "PA roaming" in refused.value.fields["criteria"][0]
    # One criterion more is a different specificity: routing can choose.
    _queue(manager, now, code="pa-roaming-mob", name="Mobile", segment="PA", service="mobile",
           category_codes=["roaming"])  # fmt: skip


def test_an_operator_or_a_supervisor_may_not_create_a_queue(operator, supervisor, now):
    for actor in (operator, supervisor):
        with pytest.raises(SetupNotAllowed):
            _queue(actor, now, code="x", name="X", segment="PA")
    assert not Queue.objects.filter(code="x").exists()


def test_the_queues_supervisor_changes_thresholds_only(catch_all, manager, supervisor, now):
    queue = _queue(manager, now, code="pa", name="PA", segment="PA", supervisors=[supervisor.id])
    change = administration.update_queue(
        actor=supervisor,
        queue=queue,
        now=now,
        changes={"overflow_client_minutes": 5, "wrap_up_seconds": 90},
    )
    assert (change.queue.overflow_client_minutes, change.queue.wrap_up_seconds) == (5, 90)
    row = _changes("queue")[-1]
    assert (row.before["overflow_client_minutes"], row.after["overflow_client_minutes"]) == (10, 5)
    assert "waiting_cases_moved" not in row.after  # thresholds apply at the next pass
    with pytest.raises(SetupNotAllowed):
        administration.update_queue(actor=supervisor, queue=queue, now=now, changes={"segment": ""})


def test_a_criteria_change_refiles_the_waiting_cases_with_an_event_each(
    default_queue, manager, contract, routed_case, operator, now
):
    later = now + timedelta(minutes=5)
    sim = routed_case(category="sim-lost")
    roaming = routed_case(category="roaming")
    taken = routed_case(category="roaming")
    Case.objects.filter(id=taken.id).update(assignee=operator)  # held: it stays where it is
    queue = _queue(
        manager, now, code="pa-sim", name="PA SIM", segment="PA", category_codes=["sim-lost"]
    )
    assert Case.objects.get(id=sim.id).queue_code == "pa-sim"  # a new queue attracts at once
    change = administration.update_queue(
        actor=manager, queue=queue, now=later, changes={"category_codes": ["roaming"]}
    )
    assert change.moved == 2
    cases = {c.id: c.queue_code for c in Case.objects.all()}
    assert cases == {sim.id: DEFAULT_QUEUE, roaming.id: "pa-sim", taken.id: DEFAULT_QUEUE}
    moved = CaseEvent.objects.filter(kind=CaseEvent.Kind.QUEUE_CHANGED, at=later)
    assert sorted((e.case_id, e.from_value, e.to_value) for e in moved) == sorted(
        [(sim.id, "pa-sim", DEFAULT_QUEUE), (roaming.id, DEFAULT_QUEUE, "pa-sim")]
    )
    row = _changes("queue")[-1]
    assert (row.before["category_codes"], row.after["category_codes"]) == (
        ["sim-lost"],
        ["roaming"],
    )
    assert row.after["waiting_cases_moved"] == 2


def test_the_set_based_filing_agrees_with_intakes_rule(
    default_queue, manager, contract, fixed_line_contract, client_pa, routed_case, now
):
    _queue(manager, now, code="pa", name="PA", segment="PA")
    _queue(manager, now, code="mobile", name="Mobile", service="mobile")
    _queue(manager, now, code="client", name="Regione", client=client_pa.id)
    _queue(manager, now, code="roaming", name="Roaming", category_codes=["roaming"])
    _queue(manager, now, code="top-fixed", name="TOP fisso", segment="TOP", service="fixed")
    cases = [
        routed_case(category="sim-lost"),
        routed_case(category="roaming"),
        routed_case(on=fixed_line_contract, category="roaming"),
        routed_case(on=fixed_line_contract, category="sim-lost"),
    ]
    expression = services.filing_expression(list(Queue.objects.all()))
    by_sql = dict(
        Case.objects.filter(id__in=[c.id for c in cases])
        .annotate(target=expression)
        .values_list("id", "target")
    )
    loaded = Case.objects.select_related("client", "contract", "category")
    by_intake = {c.id: services.queue_for(loaded.get(id=c.id)) for c in cases}
    assert by_sql == by_intake
    assert by_intake[cases[3].id] == "top-fixed"


def test_a_queue_with_cases_is_not_deleted_but_archived_and_intake_skips_it(
    default_queue, manager, contract, routed_case, operator, now
):
    queue = _queue(manager, now, code="pa", name="PA", segment="PA")
    case = routed_case()
    assert case.queue_code == "pa"
    with pytest.raises(QueueHasCases) as refused:
        administration.delete_queue(actor=manager, queue=queue, now=now)
    assert refused.value.code == "queue_has_cases"
    assert Queue.objects.filter(code="pa").exists()
    with pytest.raises(QueueHasWaitingCases):  # its case waits: moved first, or refused
        administration.archive_queue(actor=manager, queue=queue, now=now)
    assert Queue.objects.get(code="pa").archived_at is None

    change = administration.archive_queue(actor=manager, queue=queue, now=now, refile=True)
    assert change.moved == 1
    assert change.queue.archived_at == now
    assert Case.objects.get(id=case.id).queue_code == DEFAULT_QUEUE
    row = _changes("queue")[-1]
    assert (row.action, row.before["archived_at"], row.after["archived_at"]) == (
        "archived",
        None,
        now.astimezone(UTC).isoformat(),
    )
    assert routed_case().queue_code == DEFAULT_QUEUE  # intake no longer files there
    assert "pa" not in [q.code for q in services.selectors.queue_overview(now=now)]


def test_a_queue_that_never_had_a_case_is_deleted(default_queue, manager, now):
    queue = _queue(manager, now, code="vuota", name="Vuota", segment="LARGE")
    administration.delete_queue(actor=manager, queue=queue, now=now)
    assert not Queue.objects.filter(code="vuota").exists()
    row = _changes("queue")[-1]
    assert (row.action, row.before["name"]) == ("deleted", "Vuota")


# --- Emergencies in the configuration audit -------------------------------------------------


def test_an_emergency_switched_on_and_off_is_in_the_configuration_audit(
    default_queue, supervisor, now
):
    default_queue.supervisors.add(supervisor)
    services.set_emergency(
        actor=supervisor, queue=default_queue, minutes=30, reason="Guasto rete", now=now
    )
    services.set_emergency(actor=supervisor, queue=default_queue, minutes=0, reason="", now=now)
    on, off = _changes("emergency")
    until = (now + timedelta(minutes=30)).astimezone(UTC).isoformat()
    assert (on.actor, on.target_id, on.reason) == (supervisor, DEFAULT_QUEUE, "Guasto rete")
    assert on.before == {"emergency_until": None, "emergency_reason": ""}
    assert on.after == {"emergency_until": until, "emergency_reason": "Guasto rete"}
    assert off.before == on.after
    assert off.after == {"emergency_until": None, "emergency_reason": ""}
