"""Opening a case, its status, its SLA clock, re-opening, priority, assignment, merge and link,
all through the real services on the contract fixture's Palermo office calendar
(Mon–Fri 08:30–13:00, 14:00–17:30; P2 = 60 / 960 business minutes)."""

from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from care import services, signals
from care.exceptions import DuplicateSuspected, InvalidCaseData, TransitionNotAllowed
from care.models import Case, CaseEvent, CaseStatus, Channel, SlaState
from config.errors import PresidioError
from contracts import calendars
from contracts import selectors as contract_selectors
from contracts import services as contract_services
from tests.contract_terms import CATEGORIES, TARGETS, terms
from tests.factories import CLOSING_CODE, BusinessCalendarFactory, EndUserFactory

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
SIM_LOST_TEMPLATE = CATEGORIES[0].template
ALL_STATUSES = list(CaseStatus)
# The lifecycle as the business agreed it; assignment, hand-offs and re-opening have their
# own services and are not reachable through `transition_case`.
ALLOWED = {
    ("new", "in_progress"),
    ("new", "waiting_customer"),
    ("new", "resolved"),
    ("assigned", "new"),
    ("assigned", "in_progress"),
    ("assigned", "waiting_customer"),
    ("assigned", "resolved"),
    ("in_progress", "waiting_customer"),
    ("in_progress", "resolved"),
    ("waiting_customer", "in_progress"),
    ("waiting_customer", "resolved"),
    # waiting_unit is left only through the unit's answer (answer_handoff), never by hand.
    ("resolved", "closed"),
}


def rome(*args) -> datetime:
    return datetime(*args, tzinfo=ROME)


def reloaded(case: Case) -> Case:
    return Case.objects.get(id=case.id)


def events_of(case: Case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case_id=case.id).order_by("at", "id"))


def resolve(case, actor, at, code=CLOSING_CODE) -> Case:
    return services.transition_case(
        actor=actor, case=case, to=CaseStatus.RESOLVED, resolution_code=code, now=at
    )


@contextmanager
def listening(signal):
    """What `signal` announced while the block ran (keyword arguments of each send)."""
    heard = []

    def receiver(sender, signal, **kwargs):
        heard.append(kwargs)

    signal.connect(receiver, weak=False)
    try:
        yield heard
    finally:
        signal.disconnect(receiver)


def referent_of(client, manager):
    """Give `client` one referent through the contracts service and return it."""
    contract_services.update_client(
        actor=manager,
        client=client,
        name=client.name,
        segment=client.segment,
        vat_number=client.vat_number,
        province=client.province,
        referents=[contract_services.ReferentData("Giuseppe", "Lo Bue", role="Referente IT")],
    )
    return client.referents.get()


@pytest.fixture
def contract_without_p4(manager, client_pa, office_calendar):
    """A contract of the same client whose terms have no target for P4."""
    return contract_services.create_contract(
        actor=manager,
        code="RSIC-NOP4-2026",
        client=client_pa,
        calendar=office_calendar,
        services=["mobile"],
        valid_from=date(2026, 1, 1),
        valid_to=date(2028, 12, 31),
        terms=terms(sla_targets=TARGETS[:3]),
    )


# --- Opening: reference and SLA clock -------------------------------------------------------


def test_references_count_up_within_the_year(open_case_for, end_user, now):
    first = open_case_for(end_user)
    second = open_case_for(end_user, category_code="roaming", description="Nessun dato")
    assert (first.reference, second.reference) == ("CS-2026-000001", "CS-2026-000002")


def test_each_year_has_its_own_sequence(open_case_for, end_user, now):
    assert open_case_for(end_user).reference == "CS-2026-000001"
    new_year = open_case_for(end_user, category_code="roaming", now=rome(2027, 1, 4, 9, 0))
    assert new_year.reference == "CS-2027-000001"


def test_the_year_of_the_reference_is_the_year_in_rome_not_in_utc(open_case_for, end_user):
    # 31 Dec 2026 23:30 UTC is already 1 Jan 2027 00:30 in Rome.
    case = open_case_for(end_user, now=datetime(2026, 12, 31, 23, 30, tzinfo=ZoneInfo("UTC")))
    assert case.reference == "CS-2027-000001"


def test_a_case_opened_after_closing_on_friday_is_due_after_the_holiday(
    open_case_for, end_user, contract
):
    opened = rome(2026, 12, 4, 17, 30)  # Friday, closing time; Tuesday 8 Dec is Immacolata
    case = reloaded(open_case_for(end_user, now=opened))
    assert case.clock_started_at == rome(2026, 12, 7, 8, 30)
    assert case.first_response_due_at == rome(2026, 12, 7, 9, 30)
    assert case.resolution_due_at == rome(2026, 12, 9, 17, 30)
    expected = contract_selectors.sla_due(
        contract_selectors.contract_by_code(contract.code), priority="P2", opened_at=opened
    )
    assert (case.clock_started_at, case.first_response_due_at, case.resolution_due_at) == (
        expected.clock_starts_at,
        expected.first_response_due,
        expected.resolution_due,
    )


def test_at_risk_instants_fall_when_a_fifth_of_each_target_is_left(new_case, now, calendar_spec):
    case = reloaded(new_case)
    assert case.first_response_at_risk_at == rome(2026, 12, 2, 10, 48)  # 48 of 60 minutes
    assert case.first_response_at_risk_at == calendars.add_business_minutes(
        calendar_spec, now, 60 * 0.8
    )
    assert case.resolution_at_risk_at == calendars.add_business_minutes(
        calendar_spec, now, 960 * 0.8
    )
    assert case.first_response_at_risk_at < case.first_response_due_at
    assert case.resolution_at_risk_at < case.resolution_due_at


def test_opening_writes_the_case_and_its_opened_event(open_case_for, end_user, operator, now):
    case = reloaded(open_case_for(end_user, channel=Channel.EMAIL))
    assert (case.status, case.priority, case.category.code) == (CaseStatus.NEW, "P2", "sim-lost")
    assert (case.opened_by, case.opened_at, case.channel) == (operator, now, Channel.EMAIL)
    assert (case.first_response_state, case.resolution_state) == (SlaState.OK, SlaState.OK)
    assert case.contract_version.number == 1
    assert case.row_version == 1
    [event] = events_of(case)
    assert (event.kind, event.actor, event.at, event.to_value) == (
        CaseEvent.Kind.OPENED,
        operator,
        now,
        CaseStatus.NEW,
    )
    assert event.detail == {
        "channel": "email",
        "priority": "P2",
        "category": "sim-lost",
        "queue": "generale",
    }


def test_the_priority_defaults_to_the_categorys(open_case_for, end_user):
    assert open_case_for(end_user, category_code="roaming").priority == "P3"
    assert open_case_for(end_user, priority="P1").priority == "P1"


def test_the_opening_is_announced_only_after_commit(
    open_case_for, end_user, django_capture_on_commit_callbacks
):
    with listening(signals.case_opened) as heard, django_capture_on_commit_callbacks(execute=True):
        case = open_case_for(end_user)
        assert heard == []
    assert heard == [{"case_id": case.id}]


def test_a_referent_of_the_client_can_be_the_caller(open_case_for, manager, contract):
    referent = referent_of(contract.client, manager)
    case = open_case_for(None, referent_id=referent.id)
    assert (case.referent, case.end_user) == (referent, None)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"contract_code": "NO-SUCH-CONTRACT"}, "contract"),
        ({"category_code": "fibra", "priority": "P3"}, "category"),
        ({"priority": "P9"}, "priority"),
        ({"channel": "fax"}, "channel"),
        ({"subject": "   "}, "subject"),
        ({"description": ""}, "description"),
        ({"description": " \n "}, "description"),
        ({"description": SIM_LOST_TEMPLATE}, "description"),
        ({"description": f"\n  {SIM_LOST_TEMPLATE}  \n"}, "description"),
        # A browser's textarea sends the untouched template back with CRLF line ends.
        ({"description": SIM_LOST_TEMPLATE.replace("\n", "\r\n")}, "description"),
        ({"end_user_id": None}, "end_user"),
        ({"now": rome(2029, 1, 2, 10, 0)}, "contract"),  # the contract ended on 31 Dec 2028
        ({"now": rome(2025, 12, 31, 10, 0)}, "contract"),  # ...and started on 1 Jan 2026
        # 31 Dec 2028 23:30 UTC is 1 Jan 2029 in Rome: out of the contract.
        ({"now": datetime(2028, 12, 31, 23, 30, tzinfo=ZoneInfo("UTC"))}, "contract"),
    ],
)
def test_bad_case_data_is_refused_and_nothing_is_written(
    open_case_for, end_user, care_tables, changes, field
):
    open_case_for(end_user, category_code="roaming")
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        open_case_for(end_user, **changes)
    assert error.value.code == "invalid_case_data"
    assert set(error.value.fields) == {field}
    assert care_tables() == before
    # No number was used up either.
    assert open_case_for(end_user).reference == "CS-2026-000002"


def test_an_end_user_of_another_client_is_refused(
    open_case_for, other_client_end_user, care_tables
):
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        open_case_for(other_client_end_user)
    assert set(error.value.fields) == {"end_user"}
    assert care_tables() == before


def test_a_referent_of_another_client_is_refused(
    open_case_for, manager, other_client_contract, care_tables
):
    referent = referent_of(other_client_contract.client, manager)
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        open_case_for(None, referent_id=referent.id)
    assert set(error.value.fields) == {"referent"}
    assert care_tables() == before


def test_a_suspended_contract_takes_no_cases(
    open_case_for, end_user, manager, contract, care_tables
):
    contract_services.update_contract(
        actor=manager,
        contract=contract,
        calendar=contract.calendar,
        services=contract.services,
        valid_to=contract.valid_to,
        status="suspended",
    )
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        open_case_for(end_user)
    assert set(error.value.fields) == {"contract"}
    assert care_tables() == before


def test_every_problem_is_reported_at_once(open_case_for, end_user):
    with pytest.raises(InvalidCaseData) as error:
        open_case_for(None, category_code="fibra", priority="P3", subject="", channel="")
    assert set(error.value.fields) == {"end_user", "category", "subject", "channel"}


# --- Opening: the duplicate guard -----------------------------------------------------------


def test_an_open_case_of_the_same_caller_and_category_is_offered_instead(
    new_case, open_case_for, end_user, care_tables
):
    before = care_tables()
    with pytest.raises(DuplicateSuspected) as error:
        open_case_for(end_user, subject="Ancora la SIM")
    assert error.value.code == "duplicate_suspected"
    assert error.value.candidates == [new_case]
    assert [c["reference"] for c in error.value.extra["similar_cases"]] == [new_case.reference]
    assert care_tables() == before


@pytest.mark.parametrize(("resolved_days_ago", "suspected"), [(3, True), (6, True), (8, False)])
def test_a_case_resolved_in_the_last_seven_days_is_suspected_and_an_older_one_is_not(
    open_case_for, end_user, operator, now, resolved_days_ago, suspected
):
    earlier = open_case_for(end_user, now=now - timedelta(days=resolved_days_ago + 1))
    resolve(earlier, operator, now - timedelta(days=resolved_days_ago))
    if suspected:
        with pytest.raises(DuplicateSuspected) as error:
            open_case_for(end_user)
        assert error.value.candidates == [earlier]
    else:
        assert open_case_for(end_user).reference == "CS-2026-000002"


def test_a_case_of_another_category_or_another_caller_is_not_a_duplicate(
    new_case, open_case_for, end_user, contract
):
    colleague = EndUserFactory(client=contract.client)
    assert open_case_for(end_user, category_code="roaming").reference == "CS-2026-000002"
    assert open_case_for(colleague).reference == "CS-2026-000003"


def test_a_merged_case_is_not_offered_again(new_case, open_case_for, end_user, operator, now):
    other = open_case_for(end_user, category_code="roaming")
    services.merge_case(actor=operator, case=new_case, into=other, now=now)
    assert open_case_for(end_user).reference == "CS-2026-000003"


def test_a_reason_opens_the_case_anyway_and_is_recorded(new_case, open_case_for, end_user, now):
    reason = "Seconda SIM, altro numero"
    case = reloaded(open_case_for(end_user, duplicate_override_reason=f"  {reason} "))
    assert case.opening_reason == reason
    kinds = [(e.kind, e.detail.get("reason")) for e in events_of(case)]
    assert kinds == [(CaseEvent.Kind.OPENED, None), (CaseEvent.Kind.DUPLICATE_OVERRIDE, reason)]
    assert events_of(case)[1].at == now


# --- A priority without a target ------------------------------------------------------------


def test_a_priority_the_contract_has_no_target_for_has_no_sla(
    open_case_for, end_user, contract_without_p4
):
    case = reloaded(open_case_for(end_user, contract_code=contract_without_p4.code, priority="P4"))
    assert (case.first_response_state, case.resolution_state) == (SlaState.NONE, SlaState.NONE)
    assert case.first_response_due_at is None
    assert case.resolution_due_at is None


def test_a_case_without_sla_stays_without_sla_when_answered_and_resolved(
    open_case_for, end_user, contract_without_p4, operator, now
):
    case = open_case_for(end_user, contract_code=contract_without_p4.code, priority="P4")
    services.add_note(actor=operator, case=case, body="Ciao", visibility="customer", now=now)
    resolve(case, operator, now + timedelta(days=30))
    case = reloaded(case)
    assert case.first_response_at == now
    assert (case.first_response_state, case.resolution_state) == (SlaState.NONE, SlaState.NONE)


def test_moving_to_a_priority_with_a_target_starts_its_sla(
    open_case_for, end_user, contract_without_p4, operator, now, calendar_spec
):
    case = open_case_for(end_user, contract_code=contract_without_p4.code, priority="P4")
    services.change_priority(actor=operator, case=case, priority="P2", now=now)
    case = reloaded(case)
    assert (case.first_response_state, case.resolution_state) == (SlaState.OK, SlaState.OK)
    assert case.first_response_due_at == calendars.add_business_minutes(calendar_spec, now, 60)
    assert case.resolution_due_at == calendars.add_business_minutes(calendar_spec, now, 960)


def test_a_first_response_given_without_sla_is_judged_when_a_target_arrives(
    open_case_for, end_user, contract_without_p4, operator, now
):
    case = open_case_for(end_user, contract_code=contract_without_p4.code, priority="P4")
    services.add_note(actor=operator, case=case, body="Ciao", visibility="customer", now=now)
    services.change_priority(actor=operator, case=case, priority="P2", now=now)
    case = reloaded(case)
    assert (case.first_response_state, case.resolution_state) == (SlaState.MET, SlaState.OK)


def test_moving_to_a_priority_without_a_target_drops_the_due_instants(
    open_case_for, end_user, contract_without_p4, operator, now
):
    case = open_case_for(end_user, contract_code=contract_without_p4.code)
    services.change_priority(actor=operator, case=case, priority="P4", now=now)
    case = reloaded(case)
    assert (case.first_response_state, case.resolution_state) == (SlaState.NONE, SlaState.NONE)
    assert (case.first_response_due_at, case.first_response_at_risk_at) == (None, None)
    assert (case.resolution_due_at, case.resolution_at_risk_at) == (None, None)


# --- Status: the transitions table ----------------------------------------------------------


def test_the_transitions_table_is_the_agreed_lifecycle():
    table = {
        (source, target) for source, targets in services.TRANSITIONS.items() for target in targets
    }
    assert table == ALLOWED
    assert set(services.TRANSITIONS) == set(CaseStatus)


@pytest.mark.parametrize("target", ALL_STATUSES)
@pytest.mark.parametrize("source", ALL_STATUSES)
def test_a_status_change_is_made_only_when_the_table_allows_it(
    case_in_status, operator, now, care_tables, source, target
):
    case = case_in_status(source)
    assert reloaded(case).status == source
    later = now + timedelta(minutes=5)
    if (source, target) in ALLOWED:
        services.transition_case(
            actor=operator,
            case=case,
            to=target,
            resolution_code=CLOSING_CODE,
            now=later,
        )
        assert reloaded(case).status == target
        last = events_of(case)[-1]
        assert (last.kind, last.from_value, last.to_value, last.actor, last.at) == (
            CaseEvent.Kind.STATUS_CHANGED,
            source,
            target,
            operator,
            later,
        )
    else:
        before = care_tables()
        with pytest.raises(TransitionNotAllowed) as error:
            services.transition_case(
                actor=operator,
                case=case,
                to=target,
                resolution_code=CLOSING_CODE,
                now=later,
            )
        assert error.value.code == "transition_not_allowed"
        assert care_tables() == before


def test_an_unknown_status_is_invalid_data(new_case, operator, care_tables):
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        services.transition_case(actor=operator, case=new_case, to="archived")
    assert set(error.value.fields) == {"to"}
    assert care_tables() == before


@pytest.mark.parametrize(
    ("code", "error_code"),
    [
        ("", "closing_code_required"),
        ("   ", "closing_code_required"),
        ("fixed", "unknown_closing_code"),
        ("risolto-da-unita ", None),  # the portal's own codes are accepted everywhere
    ],
)
def test_resolving_needs_a_closing_code_of_the_list(
    new_case, operator, now, care_tables, code, error_code
):
    before = care_tables()
    if error_code is None:
        assert resolve(new_case, operator, now, code=code).resolution_code == code.strip()
        return
    with pytest.raises(PresidioError) as error:
        resolve(new_case, operator, now, code=code)
    assert error.value.code == error_code
    assert set(error.value.fields) == {"closing_code"}
    assert care_tables() == before


def test_resolving_gives_the_first_response_when_none_was_given(new_case, operator, now):
    at = now + timedelta(minutes=20)
    resolve(new_case, operator, at, code=" blocco-sblocco-sim ")
    case = reloaded(new_case)
    assert (case.status, case.resolved_at, case.resolution_code) == (
        CaseStatus.RESOLVED,
        at,
        "blocco-sblocco-sim",
    )
    assert (case.first_response_at, case.first_response_state) == (at, SlaState.MET)
    assert case.resolution_state == SlaState.MET
    assert [(e.kind, e.to_value) for e in events_of(case)][1:] == [
        (CaseEvent.Kind.FIRST_RESPONSE, SlaState.MET),
        (CaseEvent.Kind.STATUS_CHANGED, CaseStatus.RESOLVED),
    ]
    assert events_of(case)[-1].detail == {"resolution_code": "blocco-sblocco-sim"}


def test_resolving_during_the_call_is_recorded_as_first_contact_resolution(new_case, operator, now):
    services.transition_case(
        actor=operator,
        case=new_case,
        to=CaseStatus.RESOLVED,
        resolution_code="risolto-informazioni",
        first_contact_resolution=True,
        now=now,
    )
    assert reloaded(new_case).first_contact_resolution is True


@pytest.mark.parametrize(
    ("late_by", "state"), [(timedelta(0), "met"), (timedelta(seconds=1), "breached")]
)
def test_the_resolution_target_is_met_up_to_its_due_instant(new_case, operator, late_by, state):
    due = reloaded(new_case).resolution_due_at
    assert due == rome(2026, 12, 4, 10, 0)  # 390 + 480 + 90 business minutes after Wed 10:00
    resolve(new_case, operator, due + late_by)
    assert reloaded(new_case).resolution_state == state


def test_closing_a_resolved_case_records_when(new_case, operator, now):
    resolve(new_case, operator, now)
    later = now + timedelta(days=2)
    services.transition_case(actor=operator, case=new_case, to=CaseStatus.CLOSED, now=later)
    case = reloaded(new_case)
    assert (case.status, case.closed_at) == (CaseStatus.CLOSED, later)


# --- The clock pauses only while waiting on the customer ------------------------------------


def test_waiting_on_the_customer_moves_the_due_instants_by_the_paused_business_minutes(
    new_case, operator, now, calendar_spec
):
    resumed = rome(2026, 12, 3, 10, 0)  # Thursday: 390 minutes of Wednesday + 90 of Thursday
    assert calendars.business_minutes_between(calendar_spec, now, resumed) == 480
    services.transition_case(actor=operator, case=new_case, to=CaseStatus.WAITING_CUSTOMER, now=now)
    assert reloaded(new_case).paused_at == now
    services.transition_case(actor=operator, case=new_case, to=CaseStatus.IN_PROGRESS, now=resumed)
    case = reloaded(new_case)

    def after(minutes):
        return calendars.add_business_minutes(calendar_spec, now, minutes)

    assert (case.paused_at, case.paused_minutes) == (None, 480)
    assert case.first_response_due_at == after(60 + 480) == rome(2026, 12, 3, 11, 0)
    assert case.first_response_at_risk_at == after(48 + 480)
    assert case.resolution_due_at == after(960 + 480)
    assert case.resolution_at_risk_at == after(768 + 480)
    assert case.clock_started_at == now
    assert [(e.kind, e.at, e.from_value, e.to_value) for e in events_of(case)][1:] == [
        (CaseEvent.Kind.CLOCK_PAUSED, now, "", ""),
        (CaseEvent.Kind.STATUS_CHANGED, now, "new", "waiting_customer"),
        (CaseEvent.Kind.CLOCK_RESUMED, resumed, "", ""),
        (CaseEvent.Kind.STATUS_CHANGED, resumed, "waiting_customer", "in_progress"),
    ]
    assert events_of(case)[3].detail == {"paused_minutes": 480}


def test_a_target_already_met_does_not_move_with_a_pause(
    open_case_for, end_user, operator, calendar_spec
):
    opened = rome(2026, 12, 2, 9, 0)
    case = open_case_for(end_user, now=opened)
    services.add_note(
        actor=operator, case=case, body="Blocco fatto", visibility="customer", now=opened
    )
    first_response = reloaded(case)
    services.transition_case(
        actor=operator, case=case, to=CaseStatus.WAITING_CUSTOMER, now=rome(2026, 12, 2, 10, 0)
    )
    services.transition_case(
        actor=operator, case=case, to=CaseStatus.IN_PROGRESS, now=rome(2026, 12, 3, 10, 0)
    )
    case = reloaded(case)
    assert case.first_response_state == SlaState.MET
    assert case.first_response_due_at == first_response.first_response_due_at
    assert case.first_response_at_risk_at == first_response.first_response_at_risk_at
    assert case.resolution_due_at == calendars.add_business_minutes(
        calendar_spec, opened, 960 + 480
    )


def test_resolving_while_waiting_on_the_customer_counts_the_pause_first(new_case, operator, now):
    services.transition_case(actor=operator, case=new_case, to=CaseStatus.WAITING_CUSTOMER, now=now)
    # Friday 10:30 is after the unpaused due instant (Friday 10:00) but the clock stood still.
    resolve(new_case, operator, rome(2026, 12, 4, 10, 30))
    case = reloaded(new_case)
    assert case.paused_minutes > 0
    assert case.paused_at is None
    assert case.resolution_state == SlaState.MET


def test_resolving_in_the_repeated_hour_of_the_autumn_night_compares_real_instants(
    open_case_for, end_user, manager, client_pa, operator
):
    """On a 24x7 contract the due instant can fall in the hour that happens twice when clocks
    go back (25 Oct 2026, 02:00-03:00 twice in Rome). 02:45 summer time is earlier than
    02:30 winter time: the case is late, though the wall clocks say otherwise."""
    always = BusinessCalendarFactory(name="H24", always_open=True, office_hours=False)
    contract_services.create_contract(
        actor=manager,
        code="H24-2026",
        client=client_pa,
        calendar=always,
        services=["mobile"],
        valid_from=date(2026, 1, 1),
        valid_to=None,
        terms=terms(),
    )
    utc = ZoneInfo("UTC")
    opened = datetime(2026, 10, 24, 20, 45, tzinfo=utc)  # 22:45 summer time, P1: 240 minutes
    case = open_case_for(end_user, contract_code="H24-2026", priority="P1", now=opened)
    assert reloaded(case).resolution_due_at == datetime(2026, 10, 25, 0, 45, tzinfo=utc)
    late = datetime(2026, 10, 25, 1, 30, tzinfo=utc).astimezone(ROME)  # 02:30 winter time
    assert (late.hour, late.minute, late.fold) == (2, 30, 1)
    services.transition_case(actor=operator, case=case, to=CaseStatus.WAITING_CUSTOMER, now=late)
    resolve(case, operator, late)  # resumes the clock (0 minutes) and resolves at once
    assert reloaded(case).resolution_state == SlaState.BREACHED


# --- Re-opening -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [CaseStatus.RESOLVED, CaseStatus.CLOSED])
def test_reopening_counts_and_keeps_the_frozen_resolution_state(
    case_in_status, operator, now, status
):
    case = case_in_status(status)
    frozen = reloaded(case)
    assert frozen.resolution_state == SlaState.MET
    later = now + timedelta(days=10)
    services.reopen_case(actor=operator, case=case, reason="Il cliente richiama", now=later)
    case = reloaded(case)
    assert (case.status, case.reopen_count) == (CaseStatus.IN_PROGRESS, 1)
    assert (case.resolved_at, case.closed_at) == (None, None)
    assert case.resolution_state == SlaState.MET
    assert case.resolution_due_at == frozen.resolution_due_at
    last = events_of(case)[-1]
    assert (last.kind, last.actor, last.at, last.from_value, last.to_value) == (
        CaseEvent.Kind.REOPENED,
        operator,
        later,
        status,
        CaseStatus.IN_PROGRESS,
    )
    assert last.detail == {"reason": "Il cliente richiama"}


def test_a_reopened_case_resolved_again_late_keeps_its_frozen_resolution_state(
    new_case, operator, now
):
    resolve(new_case, operator, now)
    services.reopen_case(actor=operator, case=new_case, reason="Ancora", now=now)
    resolve(new_case, operator, now + timedelta(days=30))
    assert reloaded(new_case).resolution_state == SlaState.MET


def test_reopening_twice_counts_twice(new_case, operator, now):
    for _round in range(2):
        resolve(new_case, operator, now)
        services.reopen_case(actor=operator, case=new_case, reason="Ancora", now=now)
    assert reloaded(new_case).reopen_count == 2


def test_an_open_case_cannot_be_reopened(new_case, operator, care_tables):
    before = care_tables()
    with pytest.raises(TransitionNotAllowed):
        services.reopen_case(actor=operator, case=new_case, reason="Perché sì")
    assert care_tables() == before


def test_reopening_needs_a_reason(new_case, operator, now, care_tables):
    resolve(new_case, operator, now)
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        services.reopen_case(actor=operator, case=new_case, reason="  ")
    assert set(error.value.fields) == {"reason"}
    assert care_tables() == before


def test_a_merged_case_cannot_be_reopened(
    new_case, open_case_for, end_user, operator, now, care_tables
):
    kept = open_case_for(end_user, category_code="roaming")
    services.merge_case(actor=operator, case=new_case, into=kept, now=now)
    before = care_tables()
    with pytest.raises(TransitionNotAllowed):
        services.reopen_case(actor=operator, case=new_case, reason="Ancora", now=now)
    assert care_tables() == before


# --- Priority -------------------------------------------------------------------------------


def test_a_new_priority_recomputes_the_due_instants_from_the_opening(
    new_case, operator, now, calendar_spec
):
    later = now + timedelta(minutes=10)
    services.change_priority(actor=operator, case=new_case, priority="P1", now=later)
    case = reloaded(new_case)

    def after(minutes):
        return calendars.add_business_minutes(calendar_spec, now, minutes)

    assert case.priority == "P1"
    assert (case.first_response_due_at, case.first_response_at_risk_at) == (after(30), after(24))
    assert (case.resolution_due_at, case.resolution_at_risk_at) == (after(240), after(192))
    last = events_of(case)[-1]
    assert (last.kind, last.actor, last.at, last.from_value, last.to_value) == (
        CaseEvent.Kind.PRIORITY_CHANGED,
        operator,
        later,
        "P2",
        "P1",
    )


def test_a_new_priority_keeps_the_pauses_and_leaves_a_met_first_response_alone(
    new_case, operator, now, calendar_spec
):
    services.add_note(actor=operator, case=new_case, body="Ciao", visibility="customer", now=now)
    services.transition_case(actor=operator, case=new_case, to=CaseStatus.WAITING_CUSTOMER, now=now)
    services.transition_case(
        actor=operator, case=new_case, to=CaseStatus.IN_PROGRESS, now=rome(2026, 12, 3, 10, 0)
    )
    before = reloaded(new_case)
    services.change_priority(actor=operator, case=new_case, priority="P3", now=now)
    case = reloaded(new_case)
    assert case.first_response_due_at == before.first_response_due_at
    assert case.resolution_due_at == calendars.add_business_minutes(calendar_spec, now, 2400 + 480)


def test_the_same_priority_changes_nothing(new_case, operator, care_tables):
    before = care_tables()
    services.change_priority(actor=operator, case=new_case, priority="P2")
    assert care_tables() == before


def test_an_unknown_priority_or_a_resolved_case_is_refused(new_case, operator, now, care_tables):
    with pytest.raises(InvalidCaseData) as error:
        services.change_priority(actor=operator, case=new_case, priority="P9")
    assert set(error.value.fields) == {"priority"}
    resolve(new_case, operator, now)
    before = care_tables()
    with pytest.raises(TransitionNotAllowed):
        services.change_priority(actor=operator, case=new_case, priority="P1")
    assert care_tables() == before


# --- Assignment -----------------------------------------------------------------------------


def test_assigning_a_new_case_makes_it_assigned_and_records_who_and_why(
    new_case, operator, supervisor, now
):
    why = {"how": "reassigned", "level": "contract", "queue": "generale", "waited": 5}
    services.assign_case(actor=supervisor, case=new_case, assignee=operator, why=why, now=now)
    case = reloaded(new_case)
    assert (case.status, case.assignee) == (CaseStatus.ASSIGNED, operator)
    last = events_of(case)[-1]
    assert (last.kind, last.actor, last.at, last.from_value, last.to_value) == (
        CaseEvent.Kind.ASSIGNED,
        supervisor,
        now,
        "",
        operator.username,
    )
    assert last.detail == {"assignee": operator.id, **why}  # facts, no sentence


def test_reassigning_a_case_at_work_keeps_its_status(
    new_case, operator, supervisor, user_factory, now
):
    services.transition_case(actor=operator, case=new_case, to=CaseStatus.IN_PROGRESS, now=now)
    services.assign_case(actor=supervisor, case=new_case, assignee=operator, now=now)
    colleague = user_factory("op.bianchi")
    services.assign_case(actor=supervisor, case=new_case, assignee=colleague, now=now)
    case = reloaded(new_case)
    assert (case.status, case.assignee) == (CaseStatus.IN_PROGRESS, colleague)
    last = events_of(case)[-1]
    assert (last.from_value, last.to_value) == (operator.username, colleague.username)


def test_releasing_an_assigned_case_clears_the_assignee_and_frees_the_operator(
    new_case, operator, now, django_capture_on_commit_callbacks
):
    services.assign_case(actor=operator, case=new_case, assignee=operator, now=now)
    with (
        listening(signals.case_released) as heard,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.transition_case(actor=operator, case=new_case, to=CaseStatus.NEW, now=now)
    case = reloaded(new_case)
    assert (case.status, case.assignee) == (CaseStatus.NEW, None)
    assert heard == [{"case_id": case.id, "assignee_id": operator.id}]


def test_resolving_an_assigned_case_frees_the_operator(
    new_case, operator, now, django_capture_on_commit_callbacks
):
    services.assign_case(actor=operator, case=new_case, assignee=operator, now=now)
    with (
        listening(signals.case_released) as heard,
        django_capture_on_commit_callbacks(execute=True),
    ):
        resolve(new_case, operator, now)
    assert heard == [{"case_id": new_case.id, "assignee_id": operator.id}]


def test_a_resolved_case_cannot_be_assigned(new_case, operator, now, care_tables):
    resolve(new_case, operator, now)
    before = care_tables()
    with pytest.raises(TransitionNotAllowed):
        services.assign_case(actor=operator, case=new_case, assignee=operator, now=now)
    assert care_tables() == before


# --- Merge and link -------------------------------------------------------------------------


@pytest.fixture
def kept_case(open_case_for, end_user):
    """The case that carries on, besides `new_case` (another category, so no duplicate)."""
    return open_case_for(end_user, category_code="roaming", description="Nessun dato a Parigi")


@pytest.mark.usefixtures("queue_supervisor")
def test_merging_closes_the_duplicate_into_the_case_that_carries_on(
    new_case, kept_case, supervisor, now
):
    later = now + timedelta(hours=1)
    services.merge_case(actor=supervisor, case=new_case, into=kept_case, now=later)
    duplicate, kept = reloaded(new_case), reloaded(kept_case)
    assert (duplicate.status, duplicate.merged_into, duplicate.closed_at) == (
        CaseStatus.CLOSED,
        kept,
        later,
    )
    assert duplicate.resolution_code == "merged"
    assert kept.status == CaseStatus.NEW
    assert kept.row_version == 2  # its timeline changed: a stale form of it is refused
    [(d_kind, d_actor, d_at, d_from, d_to)] = [
        (e.kind, e.actor, e.at, e.from_value, e.to_value)
        for e in events_of(duplicate)
        if e.kind == CaseEvent.Kind.MERGED
    ]
    assert (d_kind, d_actor, d_at, d_from, d_to) == (
        CaseEvent.Kind.MERGED,
        supervisor,
        later,
        CaseStatus.NEW,
        kept.reference,
    )
    [kept_event] = [e for e in events_of(kept) if e.kind == CaseEvent.Kind.MERGED]
    assert (kept_event.from_value, kept_event.to_value, kept_event.at) == (
        duplicate.reference,
        kept.reference,
        later,
    )


@pytest.mark.usefixtures("queue_supervisor")
def test_merging_an_assigned_duplicate_frees_its_operator(
    new_case, kept_case, operator, supervisor, now, django_capture_on_commit_callbacks
):
    services.assign_case(actor=supervisor, case=new_case, assignee=operator, now=now)
    with (
        listening(signals.case_released) as heard,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.merge_case(actor=supervisor, case=new_case, into=kept_case, now=now)
    assert heard == [{"case_id": new_case.id, "assignee_id": operator.id}]


def test_a_case_cannot_be_merged_into_itself(new_case, supervisor, care_tables):
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        services.merge_case(actor=supervisor, case=new_case, into=new_case)
    assert set(error.value.fields) == {"into"}
    assert care_tables() == before


@pytest.mark.usefixtures("queue_supervisor")
def test_cases_of_different_clients_cannot_be_merged(
    new_case, open_case_for, other_client_contract, other_client_end_user, supervisor, care_tables
):
    foreign = open_case_for(other_client_end_user, contract_code=other_client_contract.code)
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        services.merge_case(actor=supervisor, case=new_case, into=foreign)
    assert set(error.value.fields) == {"into"}
    assert care_tables() == before


@pytest.mark.parametrize("status", [CaseStatus.RESOLVED, CaseStatus.CLOSED])
@pytest.mark.usefixtures("queue_supervisor")
def test_a_case_cannot_be_merged_into_a_resolved_or_closed_one(
    case_in_status, open_case_for, end_user, supervisor, care_tables, status
):
    finished = case_in_status(status)
    duplicate = open_case_for(end_user, category_code="roaming")
    before = care_tables()
    with pytest.raises(TransitionNotAllowed):
        services.merge_case(actor=supervisor, case=duplicate, into=finished)
    assert care_tables() == before


@pytest.mark.usefixtures("queue_supervisor")
def test_a_merged_case_cannot_be_merged_again(
    new_case, kept_case, open_case_for, end_user, supervisor, now, care_tables
):
    services.merge_case(actor=supervisor, case=new_case, into=kept_case, now=now)
    third = open_case_for(end_user, category_code="roaming", duplicate_override_reason="Altro")
    before = care_tables()
    with pytest.raises(TransitionNotAllowed):
        services.merge_case(actor=supervisor, case=new_case, into=third)
    assert care_tables() == before


def test_linking_records_the_related_case(new_case, kept_case, operator, now):
    services.link_case(actor=operator, case=new_case, other=kept_case, now=now)
    case = reloaded(new_case)
    assert case.linked_to == kept_case
    last = events_of(case)[-1]
    assert (last.kind, last.actor, last.at, last.to_value) == (
        CaseEvent.Kind.LINKED,
        operator,
        now,
        kept_case.reference,
    )


def test_a_case_cannot_be_linked_to_itself(new_case, operator, care_tables):
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        services.link_case(actor=operator, case=new_case, other=new_case)
    assert set(error.value.fields) == {"other"}
    assert care_tables() == before
