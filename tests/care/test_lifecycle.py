"""The case lifecycle is one table (care.services.LIFECYCLE) and one function (`_move`)."""

import re
from pathlib import Path

import pytest

from care import services
from care.models import OPEN_STATUSES, CaseStatus

ROOT = Path(__file__).resolve().parents[2]
APPS = ("care", "contracts", "routing", "reports", "config")


def test_every_move_an_operator_chooses_is_in_the_lifecycle():
    for source, destinations in services.TRANSITIONS.items():
        for destination in destinations:
            assert services.TRANSITION in services.LIFECYCLE[(source, destination)]


@pytest.mark.parametrize(
    ("edge", "action", "allowed"),
    [
        ((CaseStatus.NEW, CaseStatus.ASSIGNED), services.ASSIGN, True),
        ((CaseStatus.RESOLVED, CaseStatus.ASSIGNED), services.ASSIGN, False),
        ((CaseStatus.WAITING_UNIT, CaseStatus.IN_PROGRESS), services.TRANSITION, False),
        ((CaseStatus.WAITING_UNIT, CaseStatus.IN_PROGRESS), services.UNIT_ANSWER, True),
        ((CaseStatus.CLOSED, CaseStatus.IN_PROGRESS), services.REOPEN, True),
        ((CaseStatus.CLOSED, CaseStatus.IN_PROGRESS), services.TRANSITION, False),
        ((CaseStatus.RESOLVED, CaseStatus.CLOSED), services.MERGE, False),
    ],
)
def test_each_action_makes_only_its_own_moves(edge, action, allowed):
    assert (action in services.LIFECYCLE.get(edge, ())) is allowed


def test_only_open_cases_are_merged_or_forwarded():
    for (source, _to), actions in services.LIFECYCLE.items():
        if actions & {services.MERGE, services.HANDOFF}:
            assert source in OPEN_STATUSES


def test_no_code_sets_a_case_status_outside_the_lifecycle_function():
    """A new service writing `case.status = ...` itself would skip the table."""
    pattern = re.compile(r"\bcase\.status\s*=(?!=)")
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line) and "previous, case.status = case.status, to" not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
