"""Demo clients, calendars, contracts and end users, written through the real services.

Deterministic (a fixed seed) and idempotent: whatever already exists is left alone.
"""

import random
from datetime import date

from stdnum import luhn

from contracts import services
from contracts.imports import Row
from contracts.models import BusinessCalendar, Client, Contract

OFFICE = [(510, 780), (840, 1050)]  # 08:30-13:00, 14:00-17:30

CALENDARS = [
    # name, province, always_open, hours by weekday, closures
    (
        "Palermo uffici",
        "PA",
        False,
        dict.fromkeys(range(5), OFFICE) | {5: [(540, 720)]},
        [(date(2026, 12, 24), "Vigilia di Natale"), (date(2026, 12, 31), "San Silvestro")],
    ),
    ("Milano uffici", "MI", False, {d: [(510, 1080)] for d in range(5)}, []),
    (
        "Roma ministeri",
        "RM",
        False,
        {
            0: [(480, 840)],
            1: [(480, 840), (900, 1080)],
            2: [(480, 840)],
            3: [(480, 840), (900, 1080)],
            4: [(480, 840)],
        },
        [],
    ),
    ("Napoli uffici", "NA", False, dict.fromkeys(range(5), OFFICE), []),
    ("Torino uffici", "TO", False, {d: [(540, 1080)] for d in range(5)}, []),
    ("Bari uffici", "BA", False, dict.fromkeys(range(5), OFFICE), []),
    ("Sala operativa 24x7", "", True, {}, []),
]

CLIENTS = [
    # name, segment, province, VAT, calendar, contracts [(code, services, fast SLA)]
    (
        "Regione Siciliana",
        "PA",
        "PA",
        "02711070827",
        "Palermo uffici",
        [("RSIC-MOB-2026", ["mobile"], False), ("RSIC-DATA-2026", ["data", "fixed"], False)],
    ),
    (
        "Regione Lombardia",
        "PA",
        "MI",
        None,
        "Milano uffici",
        [("RLOM-MOB-2025", ["mobile"], False)],
    ),
    (
        "Ministero dell'Interno",
        "PA",
        "RM",
        None,
        "Roma ministeri",
        [("MININT-MOB-2026", ["mobile", "data"], True)],
    ),
    (
        "Polizia di Stato – Questura di Napoli",
        "PA",
        "NA",
        None,
        "Sala operativa 24x7",
        [("PS-NA-MOB-2026", ["mobile"], True)],
    ),
    (
        "Energia Alpina S.p.A.",
        "TOP",
        "TO",
        None,
        "Torino uffici",
        [("ENALP-MOB-2026", ["mobile", "iot"], True)],
    ),
    (
        "Logistica Adriatica S.p.A.",
        "LARGE",
        "BA",
        None,
        "Bari uffici",
        [("LOGADR-MOB-2025", ["mobile"], False)],
    ),
]

CATEGORIES = [
    services.CategoryTerms(
        "sim-lost",
        "SIM smarrita o rubata",
        "P2",
        "Numero coinvolto: …\nData e luogo: …\nDenuncia presentata: sì/no\n"
        "Blocco SIM eseguito: sì/no",
    ),
    services.CategoryTerms(
        "no-service",
        "Assenza di servizio",
        "P2",
        "Numero coinvolto: …\nZona (comune, via): …\nDa quando: …\nChiamate/dati/SMS: …",
    ),
    services.CategoryTerms(
        "roaming",
        "Roaming non funzionante",
        "P3",
        "Numero: …\nPaese e operatore: …\nRoaming attivo sul profilo: sì/no",
    ),
    services.CategoryTerms(
        "device", "Guasto terminale", "P3", "Modello e IMEI: …\nDescrizione del guasto: …"
    ),
    services.CategoryTerms(
        "new-line",
        "Richiesta nuova linea",
        "P4",
        "Richiedente (referente autorizzato): …\nProfilo tariffario: …",
    ),
    services.CategoryTerms(
        "billing", "Chiarimento fattura", "P4", "Numero fattura: …\nVoce contestata: …"
    ),
]

CARD = """## Chi è abilitato
- Tutti i dipendenti di **{client}** con una linea aziendale attiva.
- Nuove linee e cambi di profilo: solo i referenti autorizzati.

## Verifica dell'identità
- Chiedi nome, cognome e matricola; confronta con l'anagrafica.
- Per blocchi SIM chiedi anche il numero di denuncia, se presentata.

## In perimetro
- Servizi: {services}.
- Fuori perimetro: linee private dei dipendenti (indirizza al 187).

## Inoltro
- Guasti di rete: **Assurance rete** entro 30 minuti.
- Richieste contrattuali: **Back-office {client}**.
"""

FIRST_NAMES = [
    "Giuseppe",
    "Maria",
    "Giovanni",
    "Anna",
    "Antonio",
    "Francesca",
    "Salvatore",
    "Rosa",
    "Francesco",
    "Angela",
    "Vincenzo",
    "Giovanna",
    "Luca",
    "Sara",
    "Marco",
    "Paola",
    "Alessandro",
    "Chiara",
    "Andrea",
    "Elena",
    "Roberto",
    "Laura",
]
LAST_NAMES = [
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "De Luca",
    "Mancini",
    "Costa",
    "Giordano",
    "Rizzo",
    "Lombardi",
    "Moretti",
    "Lo Bue",
    "Barbieri",
]


MOBILE_PREFIXES = [
    "320",
    "328",
    "329",
    "330",
    "333",
    "335",
    "338",
    "339",
    "340",
    "345",
    "347",
    "348",
    "349",
    "350",
    "366",
    "380",
    "388",
    "389",
    "392",
    "393",
]


def _targets(fast: bool) -> list[services.TargetTerms]:
    factor = 1 if fast else 2
    return [
        services.TargetTerms("P1", 15 * factor, 240 * factor),
        services.TargetTerms("P2", 30 * factor, 480 * factor),
        services.TargetTerms("P3", 120 * factor, 1440 * factor),
        services.TargetTerms("P4", 240 * factor, 2880 * factor),
    ]


def _vat(n: int) -> str:
    body = f"{9_000_000 + n:07d}001"
    return body + luhn.calc_check_digit(body)


def seed_contracts_demo(*, actor, end_users_per_client: int = 40) -> dict[str, int]:
    """Returns how many of each thing were created (all zero on a second run)."""
    created = {"calendars": 0, "clients": 0, "contracts": 0, "end_users": 0}
    calendars = {}
    for name, province, always_open, hours, closures in CALENDARS:
        calendar = BusinessCalendar.objects.filter(name=name).first()
        if calendar is None:
            calendar = services.create_calendar(
                actor=actor,
                name=name,
                province=province,
                always_open=always_open,
                hours=hours,
                closures=closures,
            )
            created["calendars"] += 1
        calendars[name] = calendar
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    for index, (name, segment, province, vat, calendar_name, contracts) in enumerate(CLIENTS):
        client = Client.objects.filter(name=name).first()
        if client is None:
            client = services.create_client(
                actor=actor,
                name=name,
                segment=segment,
                vat_number=vat or _vat(index),
                province=province,
            )
            created["clients"] += 1
            report = services.import_end_users(
                actor=actor,
                client=client,
                dry_run=False,
                all_or_nothing=True,
                rows=_end_user_rows(rng, index, client, end_users_per_client),
            )
            created["end_users"] += report.created
        for code, service_list, fast in contracts:
            if Contract.objects.filter(code=code).exists():
                continue
            services.create_contract(
                actor=actor,
                code=code,
                client=client,
                calendar=calendars[calendar_name],
                services=service_list,
                valid_from=date(2025, 1, 1),
                valid_to=date(2028, 12, 31),
                terms=services.ContractTerms(
                    sla_targets=_targets(fast),
                    categories=CATEGORIES,
                    card_markdown=CARD.format(client=name, services=", ".join(service_list)),
                    entitlements={"linee": 500 + 250 * index, "SIM dati": 40 * (index + 1)},
                    handoff_units=[
                        {
                            "code": "assurance",
                            "name": "Assurance rete",
                            "email": "assurance@presidio.invalid",
                        },
                        {
                            "code": "backoffice",
                            "name": f"Back-office {name}",
                            "email": "backoffice@presidio.invalid",
                        },
                    ],
                    escalation_contacts=[
                        {
                            "name": "Sala controllo clienti TOP",
                            "role": "H24",
                            "phone": "+39 06 0000 0000",
                            "email": "",
                        }
                    ],
                    change_summary="Contratto iniziale",
                ),
            )
            created["contracts"] += 1
    return created


def _end_user_rows(rng: random.Random, client_index: int, client: Client, count: int):
    domain = "".join(ch for ch in client.name.lower() if ch.isalpha())[:14] + ".example.it"
    for n in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        # A real mobile prefix, then digits that make the number unique per client.
        number = f"{rng.choice(MOBILE_PREFIXES)}{client_index:02d}{n:05d}"
        yield Row(
            line=n + 2,
            values={
                "first_name": first,
                "last_name": last,
                "phone": number,
                "email": f"{first}.{last}.{n}@{domain}".lower().replace(" ", ""),
                "employee_code": f"{client.province}{client_index:02d}{n:05d}",
            },
        )
