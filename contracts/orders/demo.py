"""Demo contract orders and a loyalty worklist, written through the real services.

Idempotent: orders are seeded only into a database that has none, the expiring demo contract
only once, and the worklist feed is idempotent itself. Needs the demo contracts and the
`backoffice` demo login (config.demo); without them it does nothing.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from contracts import services
from contracts.models import Contract, ContractOrder, ContractStatus, LoyaltyItem, OrderKind
from contracts.orders import services as order_services
from contracts.orders.services import LineData

EXPIRING_CODE = "DEMO-RINNOVO"
ORDERS = [
    # kind, summary, lines [(service, quantity, days ahead)], states to go through, owned.
    # `backoffice` submits and a colleague (`backoffice2`) validates (four eyes); the first
    # order is the colleague's, waiting for `backoffice` to validate it.
    (OrderKind.ACTIVATION, "Attivazione 25 SIM per la protezione civile",
     [("mobile", 25, 14)], ["submitted"], False),
    (OrderKind.CHANGE, "Aumento banda sede centrale a 1 Gbit/s",
     [("data", 1, 21)], ["submitted", "validated"], True),
    (OrderKind.ACTIVATION, "Nuove linee fisse ufficio relazioni con il pubblico",
     [("fixed", 12, 30)], ["submitted", "validated", "provisioning"], True),
    (OrderKind.TERMINATION, "Cessazione 40 SIM dismesse",
     [("mobile", 40, 10)], [], True),
]  # fmt: skip


def seed_orders_demo(*, today=None) -> dict[str, int]:
    created = {"orders": 0, "loyalty items": 0}
    user_model = get_user_model()
    backoffice = user_model.objects.filter(username="backoffice").first()
    colleague = user_model.objects.filter(username="backoffice2").first()
    manager = user_model.objects.filter(username="manager").first()
    contracts = list(Contract.objects.filter(status=ContractStatus.ACTIVE).order_by("code")[:4])
    if backoffice is None or not contracts:
        return created
    now = timezone.now()
    today = today or timezone.localdate()
    for contract in contracts:  # back-office works the orders of its clients' account teams
        contract.client.account_team.add(*filter(None, [backoffice, colleague]))
    if not ContractOrder.objects.exists():
        for index, (kind, summary, lines, states, owned) in enumerate(ORDERS):
            order = order_services.create_order(
                actor=backoffice,
                kind=kind,
                contract=contracts[index % len(contracts)],
                lines=[
                    LineData(service=s, quantity=q, target_date=today + timedelta(days=d))
                    for s, q, d in lines
                ],
                summary=summary,
                owner=backoffice if owned else None,
                now=now,
            )
            for state in states:
                first_order_submitted = index == 0 and state == "submitted"
                actor = colleague if state == "validated" or first_order_submitted else backoffice
                if actor is None:  # no colleague to validate: the order waits for one
                    break
                order = order_services.transition_order(actor=actor, order=order, to=state)
            created["orders"] += 1
    if manager is not None and not Contract.objects.filter(code=EXPIRING_CODE).exists():
        model = contracts[0]
        services.create_contract(
            actor=manager,
            code=EXPIRING_CODE,
            client=model.client,
            calendar=model.calendar,
            services=model.services,
            valid_from=today - timedelta(days=3 * 365),
            valid_to=today + timedelta(days=45),
            terms=_terms_of(model),
        )
    created["loyalty items"] = order_services.feed_loyalty_worklist(today=today)
    item = LoyaltyItem.objects.filter(contract__code=EXPIRING_CODE).first()
    if item is not None and item.is_open and not item.actions.exists():
        order_services.record_loyalty_action(
            actor=backoffice, item=item, kind="call", note="Referente interessato al rinnovo."
        )
    return created


def _terms_of(contract: Contract) -> services.ContractTerms:
    version = contract.versions.order_by("-number").first()
    return services.ContractTerms(
        sla_targets=[
            services.TargetTerms(t.priority, t.first_response_minutes, t.resolution_minutes)
            for t in version.sla_targets.all()
        ],
        change_summary="Contratto in scadenza (demo fidelizzazione)",
    )
