"""The demo's knowledge base and saved replies: a few published articles of every scope and
replies of every kind, written and reviewed through the same services as in production (four
eyes: the supervisor writes, the manager publishes), so the suggestion panel, the search and
Alt+R have something to offer right after `make run`."""

from datetime import datetime

from django.contrib.auth import get_user_model

from care import articles, replies
from care.articles import ArticleData
from care.models import Article, ArticleScope, SavedReply
from care.replies import ReplyData
from contracts.models import Client, Contract

# title, body (Markdown), scope, target (service code, client name or contract code), tags
ARTICLES = [
    (
        "Sblocco della SIM con il codice PUK",
        "Dopo tre PIN errati la SIM si blocca.\n\n"
        "1. Verificare l'identità del chiamante (matricola o codice fiscale).\n"
        "2. Leggere il **PUK** dalla scheda del numero, mai via e-mail.\n"
        "3. Dopo dieci PUK errati la SIM va sostituita: aprire la pratica *SIM smarrita o "
        "rubata* con priorità P3.",
        ArticleScope.ALL,
        "",
        ["sim-lost"],
    ),
    (
        "Roaming non funzionante all'estero: i controlli in ordine",
        "Prima di aprire un guasto:\n\n"
        "- il roaming dati è attivo sul profilo del numero;\n"
        "- il terminale ha il roaming dati abilitato e la selezione rete automatica;\n"
        "- il paese è coperto dall'offerta del contratto.\n\n"
        "Se tutto è in ordine, riavviare il terminale; se la linea resta sospesa, aprire "
        "*Roaming non funzionante* indicando paese e operatore visitato.",
        ArticleScope.SERVICE,
        "mobile",
        ["roaming"],
    ),
    (
        "Linea sospesa o assenza di servizio: verifiche prima del guasto",
        "Le linee sospese per morosità o per furto non sono un guasto: controllare lo stato "
        "della linea sulla scheda del numero. In assenza di servizio in un'area, guardare i "
        "disservizi estesi in corso prima di aprire una nuova pratica.",
        ArticleScope.ALL,
        "",
        ["no-service"],
    ),
    (
        "Chiarimenti sulla fattura: dove trovare il dettaglio del traffico",
        "Il dettaglio del traffico è nell'area clienti del referente del contratto. Per "
        "contestazioni sopra i 500 euro inoltrare al back-office con la fattura allegata.",
        ArticleScope.ALL,
        "",
        ["billing"],
    ),
    (
        "Terminale che non si aggancia alla rete",
        "Far provare la SIM in un altro terminale: se funziona, il guasto è del terminale "
        "(assistenza del produttore); se non funziona, sostituire la SIM.",
        ArticleScope.ALL,
        "",
        ["device"],
    ),
    (
        "Regione Siciliana: nuove linee per gli uffici regionali",
        "Le richieste di nuove linee degli uffici regionali arrivano solo dai referenti "
        "abilitati. Servono: ufficio, numero di linee, indirizzo di consegna. Inoltrare al "
        "back-office contratti, che apre l'ordine contrattuale.",
        ArticleScope.CLIENT,
        "Regione Siciliana",
        ["new-line"],
    ),
]

REPLIES = [
    # scope, who writes it, title, body, target (queue code or contract code)
    (
        SavedReply.Scope.PERSONAL,
        "operatore",
        "Richiamata concordata",
        "Gentile {{ nome_chiamante }}, come concordato la ricontatteremo per la pratica "
        "{{ riferimento }} entro {{ scadenza }}. Cordiali saluti, {{ operatore }}",
        "",
    ),
    (
        SavedReply.Scope.TEAM,
        "supervisore",
        "SIM sostituita: istruzioni di attivazione",
        "Gentile {{ nome_chiamante }}, la nuova SIM della pratica {{ riferimento }} si attiva "
        "inserendola nel terminale spento; il vecchio PIN non vale più.",
        "mobile-utenti",
    ),
    (
        SavedReply.Scope.TEAM,
        "supervisore",
        "Guasto preso in carico",
        "Gentile {{ nome_chiamante }}, abbiamo preso in carico la segnalazione "
        "({{ riferimento }}): la aggiorneremo entro {{ scadenza }}.",
        "mobile-utenti",
    ),
]


def seed_knowledge_demo(*, now: datetime) -> dict:
    """Articles and replies, once (none when the demo has articles already)."""
    if Article.objects.exists():
        return {"articles": 0, "saved replies": 0}
    users = {u.username: u for u in get_user_model().objects.filter(username__in=_WRITERS)}
    author, reviewer = users.get("supervisore"), users.get("manager")
    if author is None or reviewer is None:
        return {"articles": 0, "saved replies": 0}
    published = 0
    for title, body, scope, target, tags in ARTICLES:
        data = ArticleData(title=title, body=body, scope=scope, tags=tags)
        if scope == ArticleScope.SERVICE:
            data.service = target
        elif scope == ArticleScope.CLIENT:
            client = Client.objects.filter(name=target).first()
            if client is None:
                continue
            data.client_id = client.id
        version = articles.create_article(actor=author, data=data, submit=True, now=now)
        articles.publish_article(actor=reviewer, article=version.article, now=now)
        published += 1
    written = 0
    for scope, username, title, body, target in REPLIES:
        writer = users.get(username)
        if writer is None:
            continue
        data = ReplyData(scope=scope, title=title, body=body, queue=target)
        replies.create_reply(actor=writer, data=data, now=now)
        written += 1
    contract = Contract.objects.filter(code="RSIC-MOB-2026").first()
    if contract is not None:
        replies.create_reply(
            actor=reviewer,
            data=ReplyData(
                scope=SavedReply.Scope.CONTRACT,
                title="Regione Siciliana: consegna SIM agli uffici",
                body="Gentile {{ nome_chiamante }}, la SIM della pratica {{ riferimento }} "
                "sarà consegnata all'ufficio del referente regionale.",
                contract=contract.code,
            ),
            now=now,
        )
        written += 1
    return {"articles": published, "saved replies": written}


_WRITERS = ("operatore", "supervisore", "manager")
