"""Routing's implementation of care's `personal_data_grants` port (care/ports.py): the
cases a user works beyond their own are those of the contracts and clients they are certified
on, of the queues they supervise, and, for back-office, of the clients whose account team they
are in (DESIGN.md section 2: "their clients in full"). care.privacy shows those callers in
full."""

from django.db.models import CharField, IntegerField, Value

from care.ports import Grants, Reach
from contracts.selectors import their_client_ids
from routing.models import Certification, OperatorProfile, Queue


def grants_of(user) -> Grants:
    """One query: the user's certifications (contract, client) and supervised queues (code)
    in one UNION ALL."""
    certified = (
        Certification.objects.filter(profile__user_id=user.id)
        .annotate(queue=Value("", output_field=CharField()))
        .values_list("contract_id", "client_id", "queue")
        .order_by()
    )
    supervised = (
        Queue.objects.filter(supervisors=user)
        .annotate(
            no_contract=Value(None, output_field=IntegerField()),
            no_client=Value(None, output_field=IntegerField()),
        )
        .values_list("no_contract", "no_client", "code")
        .order_by()
    )
    rows = list(certified.union(supervised, all=True))
    return Grants(
        contract_ids=frozenset(contract for contract, _client, _queue in rows if contract),
        client_ids=frozenset(client for _contract, client, _queue in rows if client)
        | (their_client_ids(user) if user.has_perm("config.work_backoffice") else frozenset()),
        queue_codes=frozenset(queue for _contract, _client, queue in rows if queue),
    )


def reach_of(user) -> Reach:
    """care's `article_reach` port: the articles an operator reads are those of their service
    skills and of the contracts and clients they are certified on (two queries)."""
    pairs = list(
        Certification.objects.filter(profile__user_id=user.id).values_list(
            "contract_id", "client_id"
        )
    )
    skills = OperatorProfile.objects.filter(user_id=user.id).values_list("skills", flat=True)
    return Reach(
        services=frozenset(skill for row in skills for skill in (row or [])),
        contract_ids=frozenset(contract for contract, _client in pairs if contract),
        client_ids=frozenset(client for _contract, client in pairs if client),
    )
