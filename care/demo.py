"""Demo cases, written through the real services so every rule and event applies.

Deterministic and idempotent: nothing is added once demo cases exist.
"""

import random
from datetime import timedelta

from django.utils import timezone

from care import services
from care.exceptions import DuplicateSuspected
from care.models import Case, CaseStatus, Note
from contracts.models import Contract, ContractStatus

SUBJECTS = {
    "sim-lost": ["SIM rubata in treno", "Smarrimento SIM durante trasferta"],
    "no-service": ["Nessun segnale in ufficio", "Linea assente da stamattina"],
    "roaming": ["Roaming dati non attivo in Francia", "Nessuna rete in Svizzera"],
    "device": ["Smartphone non si accende", "Schermo rotto"],
    "new-line": ["Nuova linea per neoassunto", "Attivazione SIM dati per tablet"],
    "billing": ["Addebito roaming contestato", "Fattura doppia"],
}


def seed_care_demo(*, operators, cases: int = 40) -> int:
    """Opens `cases` cases over the last days on the demo contracts; returns how many."""
    if Case.objects.exists() or not operators:
        return 0
    rng = random.Random(7)  # noqa: S311 - demo data, not security
    contracts = list(
        Contract.objects.filter(status=ContractStatus.ACTIVE)
        .select_related("client")
        .order_by("code")
    )
    now = timezone.now()
    created = 0
    for n in range(cases):
        contract = contracts[n % len(contracts)]
        end_user = contract.client.end_users.order_by("id")[n // len(contracts)]
        version = contract.versions.order_by("-number").first()
        category = rng.choice(list(version.categories.all()))
        opened_at = now - timedelta(hours=rng.randint(1, 96), minutes=rng.randint(0, 59))
        operator = operators[n % len(operators)]
        try:
            case = services.open_case(
                actor=operator,
                now=opened_at,
                request=services.CaseRequest(
                    contract_code=contract.code,
                    category_code=category.code,
                    channel="phone",
                    subject=rng.choice(SUBJECTS.get(category.code, ["Richiesta di assistenza"])),
                    description=(category.template or "Richiesta dell'utente.").replace(
                        "…", "vedi"
                    ),
                    end_user_id=end_user.id,
                ),
            )
        except DuplicateSuspected:
            continue
        created += 1
        step = n % 5
        later = opened_at + timedelta(minutes=rng.randint(5, 50))
        if step >= 1:
            services.assign_case(actor=operator, case=case, assignee=operator, now=later)
            services.transition_case(
                actor=operator, case=case, to=CaseStatus.IN_PROGRESS, now=later
            )
        if step >= 2:
            services.add_note(
                actor=operator,
                case=case,
                now=later + timedelta(minutes=3),
                visibility=Note.Visibility.CUSTOMER,
                body="Abbiamo preso in carico la richiesta.",
            )
        if step == 3:
            services.transition_case(
                actor=operator,
                case=case,
                to=CaseStatus.WAITING_CUSTOMER,
                now=later + timedelta(minutes=10),
            )
        if step == 4 and later + timedelta(hours=1) < now:
            services.transition_case(
                actor=operator,
                case=case,
                to=CaseStatus.RESOLVED,
                resolution_code="risolto-configurazione",
                now=later + timedelta(hours=1),
            )
    return created
