"""Demo sites, operators and queues for `seed_demo`.

Deterministic (a fixed seed) and idempotent: whatever already exists is left alone, so a
second run creates nothing and changes nothing. Presence goes through `set_presence` (its
history is written); the demo operator (`operatore`) is certified on every demo contract and
made available, so logging in as them the workspace works at once.
"""

import random

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from config import roles
from contracts import services as contract_services
from contracts.models import BusinessCalendar, Client, Contract, ContractStatus
from routing import services
from routing.models import (
    DEFAULT_QUEUE,
    Certification,
    OperatorProfile,
    PresenceState,
    Queue,
    Site,
    TelephonyLine,
)

SITE_HOURS = {day: [(480, 1200)] for day in range(5)} | {5: [(540, 780)]}  # 8-20, Sat 9-13

SITES = [
    # code, name, province
    ("milano", "Milano", "MI"),
    ("torino", "Torino", "TO"),
    ("roma", "Roma", "RM"),
    ("napoli", "Napoli", "NA"),
    ("palermo", "Palermo", "PA"),
    ("bari", "Bari", "BA"),
    ("bologna", "Bologna", "BO"),
    ("firenze", "Firenze", "FI"),
    ("venezia", "Venezia", "VE"),
    ("cagliari", "Cagliari", "CA"),
]

QUEUES = [
    # code, name, criteria, overflow to client / nationally (minutes)
    ("top-referenti", "TOP – referenti", {"segment": "TOP"}, 5, 20),
    ("large-referenti", "Large – referenti", {"segment": "LARGE"}, 10, 30),
    ("mobile-utenti", "Utenti finali – mobile", {"service": "mobile"}, 10, 30),
    ("backoffice", "Back-office contratti", {"category_codes": ["new-line", "billing"]}, 30, 120),
]

FIRST_NAMES = [
    "Alessia", "Bruno", "Carla", "Davide", "Elisa", "Fabio", "Gianna", "Ivo", "Lorenza",
    "Matteo", "Nadia", "Oscar", "Piera", "Riccardo", "Silvia", "Tommaso", "Ugo", "Valeria",
    "Walter", "Zeno", "Agnese", "Carlo", "Debora", "Enrico", "Federica", "Giorgio", "Ilaria",
    "Leonardo", "Marta", "Nicola",
]  # fmt: skip
LAST_NAMES = [
    "Amato", "Barone", "Caruso", "D'Angelo", "Fabbri", "Fontana", "Galli", "Leone", "Longo",
    "Mariani", "Martini", "Messina", "Monti", "Orlando", "Palumbo", "Pellegrini", "Riva",
    "Sala", "Santoro", "Serra", "Silvestri", "Testa", "Valentini", "Vitale", "Villa",
    "Ferri", "Gentile", "Lombardo", "Marchetti", "Parisi",
]  # fmt: skip
EXTRA_OPERATORS = 30
SKILL_SETS = [["mobile"], ["mobile", "data"], ["mobile", "fixed"], ["data", "fixed"], ["iot"]]
# The PBX's numbers (`manage.py simulate_calls` calls them) and each operator's extension.
LINES = [
    ("800100200", "Numero verde utenti mobile", "mobile-utenti"),
    ("0212345678", "Referenti TOP", "top-referenti"),
    ("0612345678", "Referenti Large", "large-referenti"),
]
DEMO_EXTENSIONS = {"operatore": "2001", "backoffice": "2002"}
LANGUAGE_SETS = [["it"], ["it", "en"], ["it", "de"], ["it", "fr"], ["it", "en", "es"]]
PRESENCES = (
    [PresenceState.AVAILABLE] * 3
    + [PresenceState.BUSY, PresenceState.AWAY]
    + [PresenceState.OFFLINE] * 2
)


def seed_routing_demo(*, actor) -> dict[str, int]:
    """Sites with their working hours, queues with supervisors, operator profiles (the demo
    users who handle cases, plus `EXTRA_OPERATORS` more). Returns how many of each were
    created (all zero on a second run)."""
    created = {"sites": 0, "queues": 0, "lines": 0, "operators": 0}
    sites = _sites(actor, created)
    _queues(created)
    _supervise(sites)
    _lines(created)
    contracts = list(
        Contract.objects.filter(status=ContractStatus.ACTIVE)
        .select_related("client")
        .order_by("code")
    )
    clients = list(Client.objects.order_by("name"))
    rng = random.Random(5)  # noqa: S311 - demo data, not security
    now = timezone.now()
    user_model = get_user_model()
    demo = {
        "operatore": {"capacity": 6, "backoffice_share": "0.34", "skills": ["mobile", "data"]},
        "backoffice": {"capacity": 8, "backoffice_share": "0.75", "skills": ["mobile"]},
    }
    for index, (username, options) in enumerate(demo.items()):
        user = user_model.objects.filter(username=username).first()
        if user is None or hasattr(user, "operator_profile"):
            continue
        profile = _profile(
            user,
            site=sites[index],
            remote=False,
            languages=["it", "en"],
            extension=DEMO_EXTENSIONS[username],
            **options,
        )
        _certify(profile, contracts=contracts, clients=[])
        services.set_presence(actor=user, profile=profile, state=PresenceState.AVAILABLE, now=now)
        created["operators"] += 1
    group = Group.objects.get(name=roles.OPERATOR)
    for n in range(EXTRA_OPERATORS):
        username = f"op{n + 1:02d}"
        first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 7) % len(LAST_NAMES)]
        options = {
            "capacity": rng.choice([4, 5, 6, 8]),
            "backoffice_share": rng.choice(["0.20", "0.25", "0.40", "0.50"]),
            "skills": rng.choice(SKILL_SETS),
        }
        languages = rng.choice(LANGUAGE_SETS)
        own_contracts = rng.sample(contracts, k=min(len(contracts), rng.randint(1, 3)))
        own_clients = rng.sample(clients, k=min(len(clients), rng.randint(0, 1)))
        presence = rng.choice(PRESENCES)
        if user_model.objects.filter(username=username).exists():
            continue
        with transaction.atomic():
            user = user_model.objects.create_user(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@presidio.invalid",
            )
            user.set_unusable_password()  # colleagues in the demo, not logins
            user.save(update_fields=["password"])
            user.groups.add(group)
            profile = _profile(
                user,
                site=sites[n % len(sites)],
                remote=n % 4 == 3,
                languages=languages,
                extension=f"{2101 + n}",
                **options,
            )
            _certify(profile, contracts=own_contracts, clients=own_clients)
        if presence != PresenceState.OFFLINE:
            services.set_presence(actor=user, profile=profile, state=presence, now=now)
        created["operators"] += 1
    return created


def _sites(actor, created: dict) -> list[Site]:
    sites = []
    for code, name, province in SITES:
        site = Site.objects.filter(code=code).first()
        if site is None:
            calendar_name = f"Sede di {name}"
            calendar = BusinessCalendar.objects.filter(name=calendar_name).first()
            if calendar is None:
                calendar = contract_services.create_calendar(
                    actor=actor, name=calendar_name, province=province, hours=SITE_HOURS
                )
            site = Site.objects.create(code=code, name=name, province=province, calendar=calendar)
            created["sites"] += 1
        sites.append(site)
    return sites


def _queues(created: dict) -> None:
    for code, name, criteria, client_minutes, national_minutes in QUEUES:
        if Queue.objects.filter(code=code).exists():
            continue
        Queue.objects.create(
            code=code,
            name=name,
            overflow_client_minutes=client_minutes,
            overflow_national_minutes=national_minutes,
            **criteria,
        )
        created["queues"] += 1


def _supervise(sites: list[Site]) -> None:
    """The demo supervisors run the demo sites and every queue (the default one too), so
    the console shows the whole demo (DESIGN §2: a supervisor sees their sites and queues).
    Only sites and queues nobody supervises yet: an administrator's choice stays."""
    supervisors = list(get_user_model().objects.filter(groups__name=roles.SUPERVISOR))
    if not supervisors:
        return
    for site in Site.objects.filter(id__in=[s.id for s in sites], supervisors__isnull=True):
        site.supervisors.set(supervisors)
    demo_queues = [DEFAULT_QUEUE, *(code for code, *_rest in QUEUES)]
    for queue in Queue.objects.filter(code__in=demo_queues, supervisors__isnull=True):
        queue.supervisors.set(supervisors)


def _lines(created: dict) -> None:
    for number, name, queue_code in LINES:
        queue = Queue.objects.filter(code=queue_code).first()
        if queue is None or TelephonyLine.objects.filter(number=number).exists():
            continue
        TelephonyLine.objects.create(number=number, name=name, queue=queue)
        created["lines"] += 1


def _profile(user, *, site, remote, languages, capacity, backoffice_share, skills, extension):
    return OperatorProfile.objects.create(
        user=user,
        site=site,
        remote=remote,
        extension=extension,
        capacity=capacity,
        backoffice_share=backoffice_share,
        skills=skills,
        languages=languages,
    )


def _certify(profile, *, contracts, clients) -> None:
    Certification.objects.bulk_create(
        [Certification(profile=profile, contract=contract) for contract in contracts]
        + [Certification(profile=profile, client=client) for client in clients]
    )
