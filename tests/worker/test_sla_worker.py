import time
from datetime import timedelta

import pytest
from django.utils import timezone

from care import services
from care.models import Case, SlaAlert, SlaState
from care.tasks import recompute_sla_task
from config.models import Heartbeat
from tests.factories import EndUserFactory

pytestmark = pytest.mark.worker


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_real_worker_breaches_an_overdue_case_and_records_the_recompute_heartbeat(
    celery_worker, contract, operator
):
    case = services.open_case(
        actor=operator,
        request=services.CaseRequest(
            contract_code=contract.code,
            category_code="sim-lost",
            channel="phone",
            subject="SIM rubata",
            description="Numero coinvolto: 3471234567",
            end_user_id=EndUserFactory(client=contract.client).id,
        ),
        now=timezone.now() - timedelta(days=60),
    )
    assert Case.objects.get(id=case.id).resolution_state == SlaState.OK

    recompute_sla_task.delay()

    assert wait_for(lambda: Heartbeat.objects.filter(name=Heartbeat.SLA_RECOMPUTE).exists())
    case = Case.objects.get(id=case.id)
    assert (case.first_response_state, case.resolution_state) == (
        SlaState.BREACHED,
        SlaState.BREACHED,
    )
    assert SlaAlert.objects.filter(case=case, level=SlaAlert.Level.BREACHED).count() == 2
    assert Heartbeat.objects.get(name=Heartbeat.SLA_RECOMPUTE).detail["breached"] == 2
