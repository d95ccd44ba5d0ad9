"""Hand-written Italian for the demo cases: subjects, the values a category's template asks
for, and free sentences, combined by `care.demo` with a seeded RNG (so a demo reads like a
working day and is the same for the same seed)."""

import random

SUBJECTS = {
    "sim-lost": [
        "SIM rubata in treno",
        "Smarrimento SIM durante trasferta",
        "Telefono aziendale rubato in auto",
        "SIM persa in aeroporto",
        "Borsa con telefono rubata",
        "Blocco urgente SIM smarrita",
    ],
    "no-service": [
        "Nessun segnale in ufficio",
        "Linea assente da stamattina",
        "Dati mobili lenti nella sede",
        "Chiamate che cadono dopo pochi secondi",
        "SMS non ricevuti",
        "Copertura assente nel magazzino",
    ],
    "roaming": [
        "Roaming dati non attivo in Francia",
        "Nessuna rete in Svizzera",
        "Chiamate impossibili da Londra",
        "Dati bloccati in trasferta a Madrid",
        "Roaming non funzionante in Germania",
    ],
    "device": [
        "Smartphone non si accende",
        "Schermo rotto",
        "Batteria che si scarica in due ore",
        "Microfono guasto in chiamata",
        "Telefono che si riavvia da solo",
    ],
    "new-line": [
        "Nuova linea per neoassunto",
        "Attivazione SIM dati per tablet",
        "Linea per il nuovo ufficio di zona",
        "Tre SIM per squadra di reperibilità",
        "Nuova linea voce e dati per dirigente",
    ],
    "billing": [
        "Addebito roaming contestato",
        "Fattura doppia",
        "Importo anomalo in fattura",
        "Canone non previsto dal contratto",
        "Traffico dati fatturato due volte",
    ],
}

STORIES = {
    "sim-lost": [
        "L'utente si è accorto del furto appena sceso dal treno regionale.",
        "Il telefono è rimasto sul taxi: il tassista non risponde.",
        "Ha perso il telefono durante un sopralluogo in cantiere.",
        "Gli hanno rubato lo zaino in metropolitana con il telefono dentro.",
        "Telefono dimenticato al bar della stazione, non più ritrovato.",
        "Smarrito durante il trasloco dell'ufficio.",
        "La collega segnala che il telefono le è stato sfilato dalla borsa al mercato.",
        "Perso in aeroporto al controllo di sicurezza.",
    ],
    "no-service": [
        "Da questa mattina nessuno al secondo piano riesce a chiamare.",
        "Il segnale va e viene, peggio nelle sale riunioni.",
        "I dati funzionano ma le chiamate non partono.",
        "Dopo il temporale di ieri la linea non è più tornata.",
        "Anche i colleghi con la stessa rete hanno il problema.",
        "Con un'altra SIM nello stesso telefono il servizio funziona.",
        "Il telefono mostra «solo chiamate di emergenza».",
        "Il problema c'è solo all'interno dell'edificio, fuori funziona.",
    ],
    "roaming": [
        "L'utente è in missione da due giorni e non ha mai avuto dati.",
        "Riceve SMS ma non riesce a chiamare l'Italia.",
        "Ha già riavviato il telefono e scelto la rete a mano.",
        "Il roaming funzionava nel viaggio precedente.",
        "Il telefono si aggancia alla rete ma segnala «nessun servizio».",
        "Deve partecipare a una riunione importante domani mattina.",
        "Ha ricevuto l'SMS di benvenuto ma la navigazione non parte.",
    ],
    "device": [
        "Il telefono è caduto ieri e da allora lo schermo è nero.",
        "Si spegne anche con la batteria al 50 per cento.",
        "Gli interlocutori non lo sentono durante le chiamate.",
        "Il guasto è iniziato dopo l'ultimo aggiornamento di sistema.",
        "Il dispositivo si scalda molto durante la ricarica.",
        "Il touch non risponde nella parte bassa dello schermo.",
        "Il telefono è in garanzia, acquistato con il contratto.",
    ],
    "new-line": [
        "Il referente chiede la linea per un dipendente che prende servizio lunedì.",
        "Servono SIM dati per i tablet dei tecnici in reperibilità.",
        "Il nuovo ufficio apre il mese prossimo e serve una linea dedicata.",
        "La richiesta arriva dall'ufficio del personale con la lettera firmata.",
        "Il dirigente chiede una linea con roaming attivo da subito.",
        "Chiedono di sapere anche i tempi di consegna delle SIM.",
    ],
    "billing": [
        "Il referente amministrativo non riconosce l'addebito.",
        "Nella fattura compare due volte lo stesso canone.",
        "Il traffico roaming risulta in un periodo in cui nessuno era all'estero.",
        "L'importo è il doppio della media degli ultimi mesi.",
        "Chiedono il dettaglio del traffico per la linea indicata.",
        "L'ufficio contabilità deve chiudere il pagamento entro fine mese.",
    ],
}

NEXT_STEPS = [
    "Richiamare l'utente entro la giornata.",
    "L'utente preferisce essere contattato via e-mail.",
    "Chiede un aggiornamento appena possibile.",
    "Disponibile al telefono fino alle 18.",
    "Avvisato che riceverà il numero di pratica per e-mail.",
    "Verificato nome, cognome e matricola.",
    "Il referente è in copia per conoscenza.",
    "Nessuna urgenza particolare segnalata.",
]

PLACES = {
    "PA": ["Palermo, via Libertà", "Palermo, piazza Politeama", "Bagheria, corso Butera"],
    "MI": ["Milano, via Melchiorre Gioia", "Milano, piazza Duca d'Aosta", "Sesto San Giovanni"],
    "RM": ["Roma, piazza del Viminale", "Roma, via Nazionale", "Roma, EUR"],
    "NA": ["Napoli, via Medina", "Napoli, Fuorigrotta", "Pozzuoli, via Napoli"],
    "TO": ["Torino, corso Regina Margherita", "Torino, Lingotto", "Moncalieri"],
    "BA": ["Bari, zona industriale", "Bari, porto", "Modugno, via dei Gigli"],
}
WHEN = [
    "ieri sera verso le 19",
    "questa mattina alle 8",
    "oggi in pausa pranzo",
    "venerdì pomeriggio",
    "ieri durante il rientro",
]
SINCE = ["da stamattina alle 9", "da ieri pomeriggio", "da circa due ore", "da lunedì"]
SERVICES_HIT = ["chiamate e dati", "solo dati", "chiamate, dati e SMS", "solo chiamate in uscita"]
COUNTRIES = [
    "Francia, Orange",
    "Svizzera, Swisscom",
    "Regno Unito, Vodafone UK",
    "Spagna, Movistar",
    "Germania, Telekom",
]
MODELS = ["Samsung Galaxy A54", "iPhone 13", "Motorola Edge 40", "Xiaomi Redmi Note 12"]
FAULTS = [
    "schermo nero dopo una caduta",
    "batteria che dura poche ore",
    "microfono muto in chiamata",
    "riavvii continui",
]
REQUESTERS = [
    "dott.ssa Greco, ufficio del personale",
    "ing. Colombo, responsabile sede",
    "sig. Marino, referente acquisti",
]
PLANS = ["Voce e dati 50 GB", "Solo dati 100 GB", "Voce illimitata e 20 GB", "Dati IoT 1 GB"]
DISPUTED = [
    "traffico roaming di ottobre",
    "canone del servizio di assistenza",
    "traffico dati oltre soglia",
    "SMS a sovrapprezzo",
]


def _number(rng: random.Random) -> str:
    return f"3{rng.randint(20, 93)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def _filler(label: str, rng: random.Random, province: str) -> str:
    """A plausible value for one line of a category's template."""
    key = label.lower()
    yes_no = rng.random() < 0.7
    choices = {
        "numero coinvolto": lambda: _number(rng),
        "numero": lambda: _number(rng),
        "data e luogo": lambda: (
            f"{rng.choice(WHEN)}, {rng.choice(PLACES.get(province, PLACES['RM']))}"
        ),
        "denuncia presentata": lambda: (
            "sì, ai Carabinieri" if yes_no else "no, la presenterà in giornata"
        ),
        "blocco sim eseguito": lambda: "sì, durante la chiamata" if yes_no else "no, da fare",
        "zona (comune, via)": lambda: rng.choice(PLACES.get(province, PLACES["RM"])),
        "da quando": lambda: rng.choice(SINCE),
        "chiamate/dati/sms": lambda: rng.choice(SERVICES_HIT),
        "paese e operatore": lambda: rng.choice(COUNTRIES),
        "roaming attivo sul profilo": lambda: "sì" if yes_no else "no, da attivare",
        "modello e imei": lambda: f"{rng.choice(MODELS)}, IMEI 35{rng.randint(10**12, 10**13 - 1)}",
        "descrizione del guasto": lambda: rng.choice(FAULTS),
        "richiedente (referente autorizzato)": lambda: rng.choice(REQUESTERS),
        "profilo tariffario": lambda: rng.choice(PLANS),
        "numero fattura": lambda: f"FT-2026-{rng.randint(1000000, 9999999)}",
        "voce contestata": lambda: rng.choice(DISPUTED),
    }
    make = choices.get(key)
    return make() if make else "indicato dall'utente"


def subject_for(category_code: str, rng: random.Random) -> str:
    return rng.choice(SUBJECTS.get(category_code, ["Richiesta di assistenza"]))


def description_for(category_code: str, template: str, rng: random.Random, province: str) -> str:
    """The category's template with every line filled in, then two sentences of the call."""
    lines = []
    for line in (template or "").splitlines():
        label, sep, _rest = line.partition(":")
        lines.append(f"{label}: {_filler(label.strip(), rng, province)}" if sep else line)
    story = rng.choice(STORIES.get(category_code, STORIES["no-service"]))
    lines += ["", f"{story} {rng.choice(NEXT_STEPS)}"]
    return "\n".join(lines).strip()
