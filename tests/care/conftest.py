"""Fixtures of the care tests: a caller of the contract's client and a helper that opens cases
through the real service. Any other state of a case comes from calling the real services."""

from datetime import date

import pytest

from care import services
from care.models import Attachment, Case, CaseEvent, CaseSequence, CaseStatus, Handoff, Note
from contracts import selectors as contract_selectors
from contracts import services as contract_services
from routing.models import DEFAULT_QUEUE, Queue
from tests.contract_terms import terms
from tests.factories import CLOSING_CODE, ClientFactory, EndUserFactory

HANDOFF_UNITS = [
    {"code": "assurance", "name": "Assurance rete"},
    {"code": "billing", "name": "Fatturazione"},
]
# What an operator writes once the template of `sim-lost` is filled in.
SIM_LOST_DESCRIPTION = "Numero coinvolto: 3471234567\nDenuncia presentata: sì"


@pytest.fixture
def end_user(contract):
    """A caller of the contract's client, reachable by phone."""
    return EndUserFactory(client=contract.client, phone="+393471234567")


@pytest.fixture
def open_case_for(contract, operator, now):
    """`open_case_for(end_user, **changes)` opens a `sim-lost` case on the contract at `now`
    through `services.open_case`; keyword arguments change the `CaseRequest` (or pass
    `actor=`, `now=`). Give `end_user=None` with `referent_id=` for a referent's case."""
    default_now = now

    def open_case_for(end_user, *, actor=None, now=None, **changes) -> Case:
        values = {
            "contract_code": contract.code,
            "category_code": "sim-lost",
            "channel": "phone",
            "subject": "SIM rubata",
            "description": SIM_LOST_DESCRIPTION,
            "end_user_id": end_user.id if end_user is not None else None,
        }
        values.update(changes)
        return services.open_case(
            actor=actor or operator,
            request=services.CaseRequest(**values),
            now=now or default_now,
        )

    return open_case_for


@pytest.fixture
def queue_supervisor(supervisor):
    """`supervisor`, running the default queue that the care tests' cases enter: they work
    its cases (care.working) without being their assignee or opener."""
    # get_or_create: a transactional test's flush removes the queue the migration made.
    queue, _created = Queue.objects.get_or_create(code=DEFAULT_QUEUE, defaults={"name": "Generale"})
    queue.supervisors.add(supervisor)
    return supervisor


@pytest.fixture
def new_case(open_case_for, end_user):
    """A `sim-lost` P2 case opened at `now` (Wednesday 2 Dec 2026, 10:00), status new."""
    return open_case_for(end_user)


@pytest.fixture
def contract_with_handoff_units(manager, contract):
    """The contract amended from 1 June 2026 with the same terms plus two hand-off units
    ("assurance", "billing"): cases opened after that date can be forwarded."""
    contract_services.amend_contract(
        actor=manager,
        contract=contract,
        effective_from=date(2026, 6, 1),
        terms=terms(handoff_units=HANDOFF_UNITS),
    )
    return contract_selectors.contract_by_code(contract.code)


@pytest.fixture
def other_client_contract(manager, office_calendar):
    """A contract of another client, in force like the main one."""
    client = ClientFactory(name="Comune di Catania", province="CT")
    return contract_services.create_contract(
        actor=manager,
        code="CT-MOB-2026",
        client=client,
        calendar=office_calendar,
        services=["mobile"],
        valid_from=date(2026, 1, 1),
        valid_to=date(2028, 12, 31),
        terms=terms(),
    )


@pytest.fixture
def other_client_end_user(other_client_contract):
    return EndUserFactory(client=other_client_contract.client, phone="+393489876543")


@pytest.fixture
def calendar_spec(contract):
    """The pure calendar of the contract, to compute expected due instants independently."""
    return contract_selectors.calendar_spec(
        contract_selectors.contract_by_code(contract.code).calendar
    )


@pytest.fixture
def case_in_status(contract_with_handoff_units, open_case_for, end_user, operator, now):
    """`case_in_status(status)` opens a case at `now` and brings it to `status` through the
    real services (assignment, hand-off, transitions), the last step at `now` too."""

    def case_in_status(status: str) -> Case:
        case = open_case_for(end_user)
        if status == CaseStatus.NEW:
            return case
        if status == CaseStatus.ASSIGNED:
            return services.assign_case(actor=operator, case=case, assignee=operator, now=now)
        if status == CaseStatus.WAITING_UNIT:
            services.send_handoff(
                actor=operator, case=case, unit_code="assurance", request="Verifica cella", now=now
            )
            return Case.objects.get(id=case.id)
        if status == CaseStatus.CLOSED:
            case = services.transition_case(
                actor=operator,
                case=case,
                to=CaseStatus.RESOLVED,
                resolution_code=CLOSING_CODE,
                now=now,
            )
        return services.transition_case(
            actor=operator, case=case, to=status, resolution_code=CLOSING_CODE, now=now
        )

    return case_in_status


@pytest.fixture
def care_tables():
    """`care_tables()`: what the care tables hold, to show that a refusal wrote nothing."""

    def care_tables() -> dict:
        return {
            "cases": list(Case.objects.order_by("id").values_list("id", "status", "row_version")),
            "events": list(CaseEvent.objects.order_by("id").values_list("id", flat=True)),
            "notes": Note.objects.count(),
            "attachments": Attachment.objects.count(),
            "handoffs": list(Handoff.objects.order_by("id").values_list("id", "outcome")),
            "sequences": list(CaseSequence.objects.order_by("year").values_list("year", "last")),
        }

    return care_tables


@pytest.fixture
def data_contract_with_a_case(operator, caller, contract, manager, office_calendar):
    """The `caller`'s client also has a data and fixed-line contract, on which the caller has
    an open case: intake offers two contracts, the likeliest this one."""
    data = contract_services.create_contract(
        actor=manager,
        code="RSIC-DATA-2026",
        client=contract.client,
        calendar=office_calendar,
        services=["data", "fixed"],
        valid_from=contract.valid_from,
        valid_to=None,
        terms=terms(),
    )
    services.open_case(
        actor=operator,
        request=services.CaseRequest(
            contract_code=data.code,
            category_code="roaming",
            channel="phone",
            subject="Rete dati lenta",
            description="Lenta in sede.",
            end_user_id=caller.id,
        ),
    )
    return data
