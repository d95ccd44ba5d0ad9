"""Routing's answer to care's `personal_data_scope`: the cases a user works beyond their
own are those of the contracts and clients they are certified on, of the queues they
supervise, and, for back-office, of the clients whose account team they are in (DESIGN.md
section 2: "their clients in full"). care.privacy shows those callers in full."""

from contracts.selectors import their_client_ids
from routing.models import Certification, Queue


def personal_data_scope(sender, user, **kwargs) -> dict:
    pairs = list(
        Certification.objects.filter(profile__user_id=user.id).values_list(
            "contract_id", "client_id"
        )
    )
    return {
        "contract_ids": {contract for contract, _client in pairs if contract},
        "client_ids": {client for _contract, client in pairs if client}
        | (their_client_ids(user) if user.has_perm("config.work_backoffice") else set()),
        "queue_codes": set(Queue.objects.filter(supervisors=user).values_list("code", flat=True)),
    }
