"""Major incidents (#23): scope, bulk link, set-based resolution, surge detection."""

from datetime import timedelta

import pytest

from care import incident_selectors, incidents, services
from care.exceptions import (
    IncidentAlreadyResolved,
    IncidentCasesRefused,
    InvalidIncidentData,
)
from care.models import (
    CaseEvent,
    CaseStatus,
    Incident,
    IncidentCase,
    IncidentEvent,
    IncidentNotice,
    IncidentStatus,
    SlaState,
)
from tests.factories import CLOSING_CODE, ClientFactory


def _data(**changes) -> incidents.IncidentData:
    values = {
        "title": "Rete mobile giù in Sicilia",
        "services": ["mobile"],
        "provinces": ["PA"],
        "public_message": "Guasto alla rete mobile a Palermo: rientro previsto entro le 14.",
    }
    values.update(changes)
    return incidents.IncidentData(**values)


@pytest.fixture
def incident(supervisor, now):
    return incidents.open_incident(actor=supervisor, data=_data(started_at=now), now=now)


@pytest.fixture
def open_cases(open_case_for, end_user, now):
    """`open_cases(n)`: n open cases of the same caller (duplicates on purpose)."""

    def open_cases(n: int, *, at=None, category_code="sim-lost"):
        return [
            open_case_for(
                end_user,
                now=at or now,
                duplicate_override_reason="guasto",
                category_code=category_code,
            )
            for _ in range(n)
        ]

    return open_cases


# --- Opening ---------------------------------------------------------------------------------


def test_an_incident_without_a_service_is_refused_and_nothing_is_written(supervisor, now):
    with pytest.raises(InvalidIncidentData) as refused:
        incidents.open_incident(actor=supervisor, data=_data(services=[], started_at=now), now=now)
    assert "services" in refused.value.fields
    assert not Incident.objects.exists()


def test_an_expected_end_before_the_start_is_refused(supervisor, now):
    with pytest.raises(InvalidIncidentData) as refused:
        incidents.open_incident(
            actor=supervisor,
            data=_data(started_at=now, expected_end_at=now - timedelta(hours=1)),
            now=now,
        )
    assert "expected_end_at" in refused.value.fields
    assert not Incident.objects.exists()


def test_every_change_of_an_incident_is_on_its_timeline(incident, manager, now):
    later = now + timedelta(minutes=20)
    incidents.update_incident(
        actor=manager,
        incident=incident,
        data=incidents.IncidentData(
            public_message="Rientro previsto entro le 16.", given=("public_message",)
        ),
        now=later,
    )
    kinds = list(incident.events.values_list("kind", "actor__username"))
    assert kinds == [("opened", incident.opened_by.username), ("updated", manager.username)]
    change = incident.events.get(kind="updated").detail["changes"]["public_message"]
    assert change["to"] == "Rientro previsto entro le 16."


# --- Scope at intake -------------------------------------------------------------------------


def test_a_fixed_line_caller_in_milano_is_not_offered_a_mobile_incident_in_roma(supervisor, now):
    incidents.open_incident(
        actor=supervisor, data=_data(services=["mobile"], provinces=["RM"], started_at=now), now=now
    )
    milano = ClientFactory(name="Comune di Milano", province="MI")
    roma = ClientFactory(name="Comune di Roma", province="RM")

    def offered(client, services):
        return incident_selectors.active_incidents_for_caller(
            client=client, contract_services=services
        )

    assert offered(milano, ["fixed"]) == []
    assert offered(milano, ["mobile"]) == []  # right service, wrong province
    assert offered(roma, ["fixed"]) == []  # right province, wrong service
    assert [i.title for i in offered(roma, ["mobile", "data"])] == ["Rete mobile giù in Sicilia"]


def test_a_nationwide_incident_of_some_clients_is_offered_only_to_their_callers(supervisor, now):
    milano = ClientFactory(name="Comune di Milano", province="MI")
    roma = ClientFactory(name="Comune di Roma", province="RM")
    incidents.open_incident(
        actor=supervisor,
        data=_data(provinces=[], client_ids=[milano.id], started_at=now),
        now=now,
    )
    assert incident_selectors.active_incidents_for_caller(
        client=milano, contract_services=["mobile"]
    )
    assert not incident_selectors.active_incidents_for_caller(
        client=roma, contract_services=["mobile"]
    )


def test_suspected_and_resolved_incidents_are_not_read_out_to_callers(supervisor, client_pa, now):
    incidents.open_incident(
        actor=supervisor, data=_data(started_at=now), now=now, status="suspected"
    )
    assert not incident_selectors.active_incidents_for_caller(
        client=client_pa, contract_services=["mobile"]
    )


def test_a_case_opened_from_the_banner_is_linked_to_the_incident(incident, open_case_for, end_user):
    case = open_case_for(end_user, incident_id=incident.id)
    assert IncidentCase.objects.get(case=case).incident == incident
    assert case.events.filter(kind=CaseEvent.Kind.INCIDENT_LINKED).count() == 1


def test_an_information_contact_is_counted_without_a_case(incident, operator, client_pa, now):
    incidents.log_information_contact(actor=operator, incident=incident, client_id=client_pa.id)
    assert incident_selectors.incident_by_id(incident.id).contact_count == 1
    assert incident_selectors.incident_by_id(incident.id).linked_count == 0


# --- Linking ---------------------------------------------------------------------------------


def test_bulk_link_links_the_filtered_open_cases_with_one_event_each(
    incident, open_cases, supervisor, now
):
    cases = open_cases(3)
    open_cases(2, category_code="roaming")
    linked = incidents.link_cases(
        actor=supervisor,
        incident=incident,
        cases=incidents.cases_matching(
            service="mobile", province="PA", category_code="sim-lost", opened_since=now
        ),
    )
    assert linked == 3
    assert set(IncidentCase.objects.values_list("case_id", flat=True)) == {c.id for c in cases}
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.INCIDENT_LINKED).count() == 3
    # Twice: the cases are already in an incident, nothing more.
    assert (
        incidents.link_cases(actor=supervisor, incident=incident, cases=incidents.cases_matching())
        == 2
    )  # only the two roaming cases were still unlinked


def test_linking_a_closed_case_is_refused_and_nothing_is_linked(
    incident, open_cases, supervisor, operator, now
):
    first, second = open_cases(2)
    services.transition_case(
        actor=operator,
        case=second,
        to="resolved",
        resolution_code=CLOSING_CODE,
        now=now,
    )
    with pytest.raises(IncidentCasesRefused) as refused:
        incidents.link_cases(
            actor=supervisor,
            incident=incident,
            references=[first.reference, second.reference, "CS-2026-999999"],
        )
    assert second.reference in refused.value.fields["closed"][0]
    assert "CS-2026-999999" in refused.value.fields["unknown"][0]
    assert not IncidentCase.objects.exists()
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.INCIDENT_LINKED).exists()


# --- Resolving -------------------------------------------------------------------------------


def test_resolving_resolves_every_open_linked_case_once_and_only_those(
    incident, open_cases, supervisor, now
):
    linked = open_cases(4)
    kept = open_cases(1)[0]
    incidents.link_cases(
        actor=supervisor, incident=incident, references=[c.reference for c in linked]
    )
    incidents.unlink_case(actor=supervisor, incident=incident, case=linked[0])
    later = now + timedelta(hours=1)
    result = incidents.resolve_incident(actor=supervisor, incident=incident, now=later)

    assert sorted(result.resolved_case_ids) == sorted(c.id for c in linked[1:])
    for case in linked[1:]:
        case.refresh_from_db()
        assert (case.status, case.resolution_code, case.resolved_at) == (
            CaseStatus.RESOLVED,
            "incidente-risolto",
            later,
        )
        assert case.resolution_state == SlaState.MET
        assert case.events.filter(kind="status_changed", to_value="resolved").count() == 1
    for case in (linked[0], kept):
        case.refresh_from_db()
        assert case.status == CaseStatus.NEW
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED


def test_resolving_twice_is_refused_and_changes_nothing_more(
    incident, open_cases, supervisor, manager, now
):
    cases = open_cases(2)
    incidents.link_cases(
        actor=supervisor, incident=incident, references=[c.reference for c in cases]
    )
    incidents.resolve_incident(actor=supervisor, incident=incident, now=now)
    events = CaseEvent.objects.count()
    # The second supervisor's request, prepared before the first committed, arrives after it.
    with pytest.raises(IncidentAlreadyResolved):
        incidents.resolve_incident(actor=manager, incident=incident, now=now)
    assert CaseEvent.objects.count() == events
    assert incident.events.filter(kind=IncidentEvent.Kind.RESOLVED).count() == 1


def test_resolution_queries_do_not_grow_with_the_cases(
    supervisor, open_cases, now, django_assert_max_num_queries
):
    counts = []
    for n in (2, 12):
        incident = incidents.open_incident(actor=supervisor, data=_data(started_at=now), now=now)
        cases = open_cases(n)
        incidents.link_cases(
            actor=supervisor, incident=incident, references=[c.reference for c in cases]
        )
        with django_assert_max_num_queries(12) as captured:
            result = incidents.resolve_incident(actor=supervisor, incident=incident, now=now)
        assert len(result.resolved_case_ids) == n
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_the_resolution_mails_the_end_users_of_the_cases_it_resolves_and_only_those(
    supervisor, operator, contract, open_case_for, now, monkeypatch
):
    from care import outbox
    from care.models import OutboundMail
    from tests.factories import EndUserFactory

    monkeypatch.setattr(outbox, "IDS_PER_READ", 2)  # SQLite reads the ids a few at a time
    incident = incidents.open_incident(actor=supervisor, data=_data(started_at=now), now=now)
    told = [open_case_for(EndUserFactory(client=contract.client)) for _ in range(5)]
    silent = open_case_for(EndUserFactory(client=contract.client, email=""))
    earlier = open_case_for(EndUserFactory(client=contract.client))
    cases = [*told, silent, earlier]
    incidents.link_cases(
        actor=supervisor, incident=incident, references=[c.reference for c in cases], now=now
    )
    services.transition_case(
        actor=operator, case=earlier, to="resolved", resolution_code=CLOSING_CODE, now=now
    )
    incidents.resolve_incident(actor=supervisor, incident=incident, now=now)
    mailed = OutboundMail.objects.filter(subject__endswith=incident.title)
    assert sorted(mailed.values_list("case_id", flat=True)) == sorted(c.id for c in told)


def test_the_resolution_announces_the_resolved_cases_after_commit(
    incident, open_cases, supervisor, now, django_capture_on_commit_callbacks
):
    from care import signals

    heard = []

    def listener(sender, incident_id, case_ids, **kwargs):
        heard.append((incident_id, sorted(case_ids)))

    cases = open_cases(2)
    incidents.link_cases(
        actor=supervisor, incident=incident, references=[c.reference for c in cases]
    )
    signals.incident_resolved.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            incidents.resolve_incident(actor=supervisor, incident=incident, now=now)
    finally:
        signals.incident_resolved.disconnect(listener)
    assert heard == [(incident.id, sorted(c.id for c in cases))]


# --- Surge detection -------------------------------------------------------------------------


def test_a_surge_raises_one_suspected_incident_told_once_and_confirming_links_its_cases(
    open_cases, supervisor, user_factory, now
):
    # A synthetic week: one case in the same hour of each of the four previous weeks...
    for week in range(1, 5):
        open_cases(1, at=now - timedelta(weeks=week, minutes=10))
    # ...an ordinary trickle earlier today, then twelve in the last quarter of an hour.
    open_cases(3, at=now - timedelta(hours=2))
    surge_cases = [
        case
        for minute in range(12)
        for case in open_cases(1, at=now - timedelta(minutes=14) + timedelta(minutes=minute))
    ]
    raised = incidents.detect_surges(now=now)

    assert len(raised) == 1
    suspected = raised[0]
    assert suspected.status == IncidentStatus.SUSPECTED
    assert suspected.evidence["cases"] == 12
    assert suspected.evidence["usual_per_15_minutes"] == 0.25  # 4 cases / 16 quarters
    assert (suspected.services, suspected.provinces, suspected.category_code) == (
        ["mobile"],
        ["PA"],
        "sim-lost",
    )
    assert IncidentNotice.objects.filter(recipient=supervisor, incident=suspected).count() == 1
    # Again a minute later: the same surge, no second alert, nobody told twice.
    assert incidents.detect_surges(now=now + timedelta(minutes=1)) == []
    assert IncidentNotice.objects.count() == 1

    incidents.confirm_incident(actor=supervisor, incident=suspected, now=now)
    assert set(
        IncidentCase.objects.filter(incident=suspected).values_list("case_id", flat=True)
    ) == {c.id for c in surge_cases}


def test_the_usual_rate_for_the_hour_is_no_surge(open_cases, now):
    for week in range(1, 5):
        open_cases(16, at=now - timedelta(weeks=week, minutes=5))
    open_cases(12, at=now - timedelta(minutes=5))
    assert incidents.detect_surges(now=now) == []


def test_the_detection_task_is_on_beat_and_raises_nothing_on_a_quiet_hour(db, settings):
    from care.tasks import detect_surges_task

    assert any(
        entry["task"] == "care.tasks.detect_surges_task"
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    )
    assert detect_surges_task() == {"raised": []}


def test_supervisors_see_a_suspected_incident_in_their_notifications_until_confirmed(
    client, open_cases, supervisor, now
):
    open_cases(12, at=now - timedelta(minutes=5))
    (suspected,) = incidents.detect_surges(now=now)
    client.force_login(supervisor)
    page = client.get("/care/notifications/").content.decode()
    assert f"INC-{suspected.id}" in page
    incidents.confirm_incident(actor=supervisor, incident=suspected, now=now)
    page = client.get("/care/notifications/").content.decode()
    assert f"INC-{suspected.id}" not in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_supervisors_resolving_at_once_resolve_each_case_exactly_once(
    open_cases, supervisor, manager, now
):
    from tests.care.test_concurrency import run_together

    incident = incidents.open_incident(actor=supervisor, data=_data(started_at=now), now=now)
    cases = open_cases(5)
    incidents.link_cases(
        actor=supervisor, incident=incident, references=[c.reference for c in cases], now=now
    )

    def resolve(actor):
        return lambda: incidents.resolve_incident(actor=actor, incident=incident, now=now)

    results = run_together(resolve(supervisor), resolve(manager))
    winners = [r for r in results if isinstance(r, incidents.Resolution)]
    losers = [r for r in results if isinstance(r, IncidentAlreadyResolved)]
    assert (len(winners), len(losers)) == (1, 1), results
    resolved = CaseEvent.objects.filter(kind="status_changed", to_value="resolved")
    assert resolved.count() == 5
    assert sorted(resolved.values_list("case_id", flat=True)) == sorted(c.id for c in cases)
