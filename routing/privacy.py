"""Routing's answer to care's `personal_data_scope`: the cases a user works beyond their
own are those of the contracts and clients they are certified on and of the queues they
supervise (care.privacy shows those callers in full)."""

from routing.models import Certification, Queue


def personal_data_scope(sender, user, **kwargs) -> dict:
    pairs = list(
        Certification.objects.filter(profile__user_id=user.id).values_list(
            "contract_id", "client_id"
        )
    )
    return {
        "contract_ids": {contract for contract, _client in pairs if contract},
        "client_ids": {client for _contract, client in pairs if client},
        "queue_codes": set(Queue.objects.filter(supervisors=user).values_list("code", flat=True)),
    }
