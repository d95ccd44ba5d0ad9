"""Fixtures of the routing tests: operator profiles with certifications and skills, queues,
and cases opened through the real care services (then filed by the real routing service)."""

from datetime import date, timedelta

import pytest

from care import services as care_services
from care.models import Case
from config import roles
from contracts import services as contract_services
from contracts.models import Client, Contract
from routing import services
from routing.models import (
    DEFAULT_QUEUE,
    Certification,
    OperatorProfile,
    PresenceState,
    Queue,
    Site,
)
from tests.care.conftest import SIM_LOST_DESCRIPTION, care_tables, end_user, open_case_for
from tests.contract_terms import CATEGORIES, terms
from tests.factories import ClientFactory, EndUserFactory

__all__ = ["care_tables", "end_user", "open_case_for"]  # the care fixtures, shared here


def make_profile(
    user,
    *,
    contracts: tuple[Contract, ...] = (),
    clients: tuple[Client, ...] = (),
    skills: tuple[str, ...] = (),
    capacity: int = 5,
    backoffice_share: str = "0.40",
    available: bool = True,
    site: Site | None = None,
    now=None,
) -> OperatorProfile:
    """An operator profile in its default state, certified as asked, and (by default) made
    available through `set_presence`."""
    profile = OperatorProfile.objects.create(
        user=user,
        site=site,
        capacity=capacity,
        backoffice_share=backoffice_share,
        skills=list(skills),
    )
    Certification.objects.bulk_create(
        [Certification(profile=profile, contract=c) for c in contracts]
        + [Certification(profile=profile, client=c) for c in clients]
    )
    if available:
        profile = services.set_presence(
            actor=user, profile=profile, state=PresenceState.AVAILABLE, now=now
        )
    return profile


@pytest.fixture
def pull_only(settings):
    """Auto-assign (push) switched off: cases wait for take-next. Transactional tests run the
    after-commit triggers (Celery is eager in tests), which would otherwise push each case
    to an available operator as soon as it is opened."""
    settings.ROUTING_AUTO_ASSIGN = False


@pytest.fixture
def profile_factory(now, home_site):
    """`profile_factory(user, ...)`: `make_profile`, at the tests' site unless told."""

    def factory(user, **kwargs) -> OperatorProfile:
        kwargs.setdefault("now", now - timedelta(hours=2))
        kwargs.setdefault("site", home_site)
        return make_profile(user, **kwargs)

    return factory


@pytest.fixture
def default_queue(db):
    """The default queue as the data migration creates it (a transactional test's flush
    removes migrated rows, so it is ensured here)."""
    queue, _created = Queue.objects.get_or_create(code=DEFAULT_QUEUE, defaults={"name": "Generale"})
    return queue


@pytest.fixture
def home_site(db):
    """The site of the operators `profile_factory` makes."""
    return Site.objects.create(code="sede", name="Sede di prova", province="RM")


@pytest.fixture
def supervisor(supervisor, home_site, default_queue):
    """The supervisor of the tests' site and of the default queue (DESIGN §2,
    `routing.scope`): they see and act on its operators and that queue's cases."""
    home_site.supervisors.add(supervisor)
    default_queue.supervisors.add(supervisor)
    return supervisor


@pytest.fixture
def fast_contract(manager, client_pa, office_calendar):
    """A second contract of the same client with short P2/P3 targets and no P4 target (its
    P4 cases have no resolution due time)."""
    return contract_services.create_contract(
        actor=manager,
        code="RSIC-FAST-2026",
        client=client_pa,
        calendar=office_calendar,
        services=["mobile"],
        valid_from=date(2026, 1, 1),
        valid_to=date(2028, 12, 31),
        terms=terms(
            sla_targets=[
                contract_services.TargetTerms("P2", 15, 30),
                contract_services.TargetTerms("P3", 30, 60),
            ],
            categories=CATEGORIES,
        ),
    )


@pytest.fixture
def fixed_line_contract(manager, office_calendar):
    """A contract of another client (segment TOP) for fixed-line services only."""
    client = ClientFactory(name="Acme Industrie", segment="TOP", province="MI")
    return contract_services.create_contract(
        actor=manager,
        code="ACME-FIX-2026",
        client=client,
        calendar=office_calendar,
        services=["fixed"],
        valid_from=date(2026, 1, 1),
        valid_to=date(2028, 12, 31),
        terms=terms(),
    )


@pytest.fixture
def routed_case(default_queue, contract, operator, now):
    """`routed_case(opened_at=..., contract=..., priority=..., category=...)` opens a case for
    a new caller through `care.services.open_case`, which files it in its queue."""

    def routed_case(
        *, opened_at=None, on=None, priority: str = "", category: str = "sim-lost"
    ) -> Case:
        on = on or contract
        opened_at = opened_at or now
        caller = EndUserFactory(client=on.client)
        return care_services.open_case(
            actor=operator,
            request=care_services.CaseRequest(
                contract_code=on.code,
                category_code=category,
                channel="phone",
                subject="SIM rubata",
                description=SIM_LOST_DESCRIPTION,
                priority=priority,
                end_user_id=caller.id,
            ),
            now=opened_at,
        )

    return routed_case


@pytest.fixture
def unplaced_supervisor(user_factory):
    """A supervisor who runs no site and no queue yet (routing.scope: reaches nothing)."""
    return user_factory("sup.nuovo", roles.SUPERVISOR)
