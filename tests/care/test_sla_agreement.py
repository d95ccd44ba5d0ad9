"""The set-based recompute agrees exactly with the pure calendar module: cases opened at random
instants and priorities around holidays (Immacolata, Palermo's Santa Rosalia) and the DST
changes, on an office calendar and a 24x7 one, end in the states the calendar module predicts
at a random later instant, and their stored due instants are the calendar module's (and the
SLA ledger's)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from care import services
from care.ledger import case_ledger
from care.models import Case
from care.sla import recompute_sla_states
from contracts import calendars
from contracts import selectors as contract_selectors
from contracts import services as contract_services
from tests.contract_terms import TARGETS, terms
from tests.factories import BusinessCalendarFactory, EndUserFactory

ROME = ZoneInfo("Europe/Rome")
MINUTES = {t.priority: (t.first_response_minutes, t.resolution_minutes) for t in TARGETS}
ANCHORS = [
    datetime(2026, 12, 7, 12, 0, tzinfo=ROME),  # the day before the Immacolata
    datetime(2026, 7, 14, 12, 0, tzinfo=ROME),  # the day before Santa Rosalia (Palermo)
    datetime(2026, 10, 24, 12, 0, tzinfo=ROME),  # clocks go back on Sunday 25 October
    datetime(2027, 3, 27, 12, 0, tzinfo=ROME),  # clocks go forward on Sunday 28 March
    datetime(2026, 12, 31, 12, 0, tzinfo=ROME),  # New Year
]
OPENING = st.builds(
    lambda anchor, minutes: anchor + timedelta(minutes=minutes),
    st.sampled_from(ANCHORS),
    st.integers(-3 * 24 * 60, 3 * 24 * 60),
)
CASES = st.lists(
    st.tuples(OPENING, st.sampled_from(sorted(MINUTES)), st.booleans()), min_size=1, max_size=6
)


@pytest.fixture
def contracts_by_kind(manager, client_pa, office_calendar):
    always = BusinessCalendarFactory(name="H24", always_open=True, office_hours=False)
    found = {}
    for kind, calendar in (("office", office_calendar), ("always", always)):
        contract = contract_services.create_contract(
            actor=manager,
            code=f"AGREE-{kind}".upper(),
            client=client_pa,
            calendar=calendar,
            services=["mobile"],
            valid_from=date(2026, 1, 1),
            valid_to=date(2028, 12, 31),
            terms=terms(),
        )
        contract = contract_selectors.contract_by_code(contract.code)
        found[kind] = (contract, contract_selectors.calendar_spec(contract.calendar))
    return found


def expected_state(spec, opened_at, minutes, share, now) -> tuple[str, datetime, datetime]:
    due = calendars.add_business_minutes(spec, opened_at, minutes).astimezone(UTC)
    # In UTC: an instant of the repeated autumn hour in Rome's zone never equals one in UTC.
    at_risk = calendars.add_business_minutes(spec, opened_at, minutes * (1 - share)).astimezone(UTC)
    if now > due:
        return "breached", due, at_risk
    if now >= at_risk:
        return "at_risk", due, at_risk
    return "ok", due, at_risk


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# 24x7, P1: the resolution turns at risk at 02:00 of the night the clocks go back (the
# repeated hour), 192 business minutes after 22:48.
@example(cases=[(datetime(2026, 10, 24, 22, 48, tzinfo=ROME), "P1", True)], probe=200)
@given(cases=CASES, probe=st.integers(0, 6 * 24 * 60))
def test_the_recompute_ends_where_the_calendar_module_says(
    contracts_by_kind, operator, cases, probe
):
    opened = []
    for opened_at, priority, always in cases:
        contract, spec = contracts_by_kind["always" if always else "office"]
        case = services.open_case(
            actor=operator,
            request=services.CaseRequest(
                contract_code=contract.code,
                category_code="sim-lost",
                channel="phone",
                subject="SIM rubata",
                description="Numero coinvolto: 3471234567",
                end_user_id=EndUserFactory(client=contract.client).id,
                priority=priority,
            ),
            now=opened_at,
        )
        opened.append((case, spec, opened_at, priority))
    now = (max(o for o, _p, _a in cases) + timedelta(minutes=probe)).astimezone(UTC)
    recompute_sla_states(now=now)
    for case, spec, opened_at, priority in opened:
        stored = Case.objects.get(id=case.id)
        share = float(Decimal(stored.contract_version.at_risk_share))
        first, resolution = MINUTES[priority]
        for target, minutes in (("first_response", first), ("resolution", resolution)):
            state, due, at_risk = expected_state(spec, opened_at, minutes, share, now)
            assert getattr(stored, f"{target}_due_at") == due
            assert getattr(stored, f"{target}_at_risk_at") == at_risk
            assert getattr(stored, f"{target}_state") == state, (target, opened_at, now)
        assert case_ledger(stored).due == {
            "first_response": stored.first_response_due_at,
            "resolution": stored.resolution_due_at,
        }
