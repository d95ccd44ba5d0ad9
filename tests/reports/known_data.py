"""A small data set where every report figure is known by hand (tests of reports/).

All cases are opened at `now` (Wednesday 2 December 2026, 10:00 in Rome, office hours):

| case | client    | caller | category | what happens                                            |
|------|-----------|--------|----------|---------------------------------------------------------|
| c1   | Regione   | u1     | sim-lost | resolved at first contact 10 min later                  |
| c2   | Regione   | u2     | sim-lost | opened despite a similar case (reason), left open       |
| c3   | Regione   | u1     | roaming  | handed off to "assurance" at +5 min, resolved by it +2h |
| c4   | Regione   | u3     | sim-lost | resolved at +20 min, reopened at +1 h, left open        |
| c5   | Catania   | u4     | sim-lost | left open                                               |

Then the SLA recompute runs 10 days later: c2 and c5 breach both targets; c1, c3 and c4
met both (c4's targets were met when it was resolved, and a met target freezes).
Sites: Mario Rossi (operator) and the supervisor work in Milano, which the supervisor runs,
Luca Bianchi in Palermo; the supervisor gives c2 to Mario Rossi and c5 to Luca Bianchi one
minute after the opening (with an override reason: neither case is in a queue they run).
"""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from care import services
from care.models import Case, CaseStatus, Handoff
from care.sla import recompute_sla_states
from config import roles
from reports.forms import ReportFilters
from routing import services as routing_services
from routing.models import Site
from tests.care import conftest as care_fixtures
from tests.factories import CLOSING_CODE, EndUserFactory
from tests.routing.conftest import make_profile

LATER = timedelta(days=10)
# Care fixtures the data set needs, for the test modules to re-export.
contract_with_handoff_units = care_fixtures.contract_with_handoff_units
other_client_contract = care_fixtures.other_client_contract
open_case_for = care_fixtures.open_case_for


@dataclass
class Known:
    cases: dict
    filters: ReportFilters
    report_now: object
    operator: object
    other_operator: object
    supervisor: object
    client_name: str
    other_client_name: str


@pytest.fixture
def known(
    contract_with_handoff_units,
    other_client_contract,
    open_case_for,
    operator,
    supervisor,
    user_factory,
    now,
):
    contract = contract_with_handoff_units
    u1, u2, u3 = (EndUserFactory(client=contract.client) for _ in range(3))
    u4 = EndUserFactory(client=other_client_contract.client, phone="+393489876543")
    c1 = open_case_for(u1)
    services.transition_case(
        actor=operator,
        case=c1,
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        first_contact_resolution=True,
        now=now + timedelta(minutes=10),
    )
    c2 = open_case_for(u2, duplicate_override_reason="Seconda SIM, altro numero")
    c3 = open_case_for(u1, category_code="roaming", subject="Roaming")
    services.send_handoff(
        actor=operator,
        case=c3,
        unit_code="assurance",
        request="Verifica cella",
        now=now + timedelta(minutes=5),
    )
    services.answer_handoff(
        actor=operator,
        handoff=Handoff.objects.get(case=c3),
        answer="Cella ripristinata",
        outcome=Handoff.Outcome.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=now + timedelta(hours=2, minutes=5),
    )
    c4 = open_case_for(u3)
    c4 = services.transition_case(
        actor=operator,
        case=c4,
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=now + timedelta(minutes=20),
    )
    services.reopen_case(
        actor=operator, case=c4, reason="Non risolto", now=now + timedelta(hours=1)
    )
    c5 = open_case_for(
        u4,
        contract_code=other_client_contract.code,
    )

    milano = Site.objects.create(code="mi", name="Milano", province="MI")
    palermo = Site.objects.create(code="pa", name="Palermo", province="PA")
    other_operator = user_factory(
        "op.bianchi", roles.OPERATOR, first_name="Luca", last_name="Bianchi"
    )
    milano.supervisors.add(supervisor)  # runs Milano: sees its operators (routing.scope)
    for user, site in ((operator, milano), (supervisor, milano), (other_operator, palermo)):
        profile = make_profile(user, now=now - timedelta(hours=2))
        profile.site = site
        profile.save(update_fields=["site"])
    for case, who in ((c2, operator), (c5, other_operator)):
        routing_services.reassign_case(
            actor=supervisor,
            case=Case.objects.get(id=case.id),
            operator=who,
            override_reason="Prova dei report",
            now=now + timedelta(minutes=1),
        )
    recompute_sla_states(now=now + LATER)
    return Known(
        cases={
            name: Case.objects.get(id=case.id)
            for name, case in (("c1", c1), ("c2", c2), ("c3", c3), ("c4", c4), ("c5", c5))
        },
        filters=ReportFilters(date_from=date(2026, 12, 1), date_to=date(2026, 12, 31)),
        report_now=now + LATER,
        operator=operator,
        other_operator=other_operator,
        supervisor=supervisor,
        client_name=contract.client.name,
        other_client_name=other_client_contract.client.name,
    )
