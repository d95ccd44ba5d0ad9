"""The routing demo: ten sites with working hours, queues with supervisors, operators with
profiles (the demo operator available at once); a second run changes nothing."""

import pytest
from django.contrib.auth import get_user_model

from config.demo import seed_demo_users
from contracts.demo import seed_contracts_demo
from routing.demo import EXTRA_OPERATORS, SITES, seed_routing_demo
from routing.models import Certification, OperatorProfile, PresenceChange, Queue, Site
from routing.scope import supervisor_scope

pytestmark = pytest.mark.django_db


def test_the_routing_demo_is_complete_and_idempotent(role_groups, default_queue):
    seed_demo_users()
    manager = get_user_model().objects.get(username="manager")
    seed_contracts_demo(actor=manager, end_users_per_client=2)

    created = seed_routing_demo(actor=manager)

    assert created == {
        "sites": len(SITES),
        "queues": 4,
        "lines": 3,
        "operators": EXTRA_OPERATORS + 2,
    }
    assert Site.objects.filter(calendar__isnull=False).count() == len(SITES)
    assert {"top-referenti", "large-referenti", "mobile-utenti", "backoffice"} <= set(
        Queue.objects.values_list("code", flat=True)
    )
    # The demo supervisor runs every site and queue: `make run` shows a full console.
    demo_supervisor = get_user_model().objects.get(username="supervisore")
    scope = supervisor_scope(demo_supervisor)
    assert scope.site_ids == set(Site.objects.values_list("id", flat=True))
    assert scope.queue_ids == set(Queue.objects.values_list("id", flat=True))
    demo = OperatorProfile.objects.get(user__username="operatore")
    assert demo.presence == "available"
    assert Certification.objects.filter(profile=demo).exists()
    before = (
        list(OperatorProfile.objects.order_by("id").values_list("id", "presence", "capacity")),
        Certification.objects.count(),
        PresenceChange.objects.count(),
    )

    assert seed_routing_demo(actor=manager) == {
        "sites": 0,
        "queues": 0,
        "lines": 0,
        "operators": 0,
    }
    after = (
        list(OperatorProfile.objects.order_by("id").values_list("id", "presence", "capacity")),
        Certification.objects.count(),
        PresenceChange.objects.count(),
    )
    assert after == before
