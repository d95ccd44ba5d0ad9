"""Knowledge base: every write of articles (issue #24). Reads are in `care.article_selectors`.

- Whoever works cases writes and proposes articles (also from a resolved case, prefilled
  from its category, contract and resolution); supervisors, managers and administrators
  review and publish them (`article_selectors.REVIEW_CAPABILITIES`).
- An article's text lives in numbered versions. Writing creates a new version (a draft, or
  in review when sent); the article in force changes only when a second person publishes a
  pending version: the author of a version never publishes it (four eyes). Publishing locks
  the article's row and moves the version out of review with a conditional UPDATE, so two
  reviewers publishing at once publish it once; the second gets a 409 and nothing changes.
- The scope is need-to-know: an author may scope an article only to a service, client or
  contract in their own reach (reviewers: any); otherwise the target is "unknown".
- The Markdown is rendered and sanitised exactly as the contract card (`contracts.cards`).
- Using an article from the suggestions (opening it, inserting it into a note) is recorded
  as a `CaseArticleUse`; at intake, before the case exists, the use waits for the case the
  same operator opens on that contract within 30 minutes (`attach_intake_uses`).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from care import article_selectors
from care.exceptions import (
    ArticleAlreadyReviewed,
    ArticleNotFound,
    ArticleReviewRefused,
    InvalidArticleData,
    NothingToReview,
    OwnArticleReview,
)
from care.models import (
    Article,
    ArticleScope,
    ArticleStatus,
    ArticleVersion,
    Case,
    CaseArticleUse,
    CaseStatus,
)
from config.errors import PermissionDenied
from contracts.cards import render_card
from contracts.models import Client, Contract, Service

MAX_BODY = 20000
MAX_TAGS = 10
PENDING = (ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW)
INTAKE_WINDOW = timedelta(minutes=30)
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
FACE = ("title", "body", "body_html", "tags", "scope", "service", "client_id", "contract_id")


@dataclass
class ArticleData:
    """What a form or the API sends. The target of the scope: `service`, `client_id` or
    `contract_code`, as the scope needs."""

    title: str = ""
    body: str = ""
    scope: str = ArticleScope.ALL
    service: str = ""
    client_id: int | None = None
    contract_code: str = ""
    tags: list[str] = field(default_factory=list)
    change_note: str = ""


def _checked(actor, data: ArticleData) -> dict:
    """The version's values, or InvalidArticleData naming every problem at once."""
    errors: dict[str, list[str]] = {}
    reach = article_selectors.reach_of(actor)
    values: dict = {
        "title": " ".join((data.title or "").split())[:200],
        "body": (data.body or "").strip(),
        "scope": data.scope,
        "service": "",
        "client_id": None,
        "contract_id": None,
        "change_note": (data.change_note or "").strip()[:300],
    }
    if not values["title"]:
        errors["title"] = [_("Give the article a title.")]
    if not values["body"]:
        errors["body"] = [_("Write the article's text.")]
    elif len(values["body"]) > MAX_BODY:
        errors["body"] = [_("The text is too long (at most %(n)s characters).") % {"n": MAX_BODY}]
    tags = []
    for raw in data.tags or []:
        tag = (raw or "").strip().lower()
        if tag and tag not in tags:
            tags.append(tag)
    if bad := [tag for tag in tags if not _TAG.match(tag)]:
        errors["tags"] = [_("Not a category code: %(t)s.") % {"t": ", ".join(bad)[:200]}]
    elif len(tags) > MAX_TAGS:
        errors["tags"] = [_("At most %(n)s category tags.") % {"n": MAX_TAGS}]
    values["tags"] = " ".join(tags)
    if data.scope == ArticleScope.SERVICE:
        service = (data.service or "").strip().lower()
        if service not in Service.values or not reach.covers(scope=data.scope, service=service):
            errors["service"] = [_("Unknown service, or not one of yours.")]
        values["service"] = service
    elif data.scope == ArticleScope.CLIENT:
        client = Client.objects.filter(id=data.client_id).first() if data.client_id else None
        if client is None or not reach.covers(scope=data.scope, client_id=client.id):
            errors["client"] = [_("Unknown client.")]
        else:
            values["client_id"] = client.id
    elif data.scope == ArticleScope.CONTRACT:
        code = (data.contract_code or "").strip().upper()
        contract = Contract.objects.filter(code=code).first() if code else None
        if contract is None or not reach.covers(
            scope=data.scope, client_id=contract.client_id, contract_id=contract.id
        ):
            errors["contract"] = [_("Unknown contract.")]  # not yours answers the same
        else:
            values["client_id"], values["contract_id"] = contract.client_id, contract.id
    elif data.scope != ArticleScope.ALL:
        errors["scope"] = [_("Choose a scope: everyone, a service, a client or a contract.")]
    if errors:
        raise InvalidArticleData(fields=errors)
    values["body_html"] = render_card(values["body"])
    return values


def _may_write(actor) -> None:
    if not article_selectors.may_read(actor):
        raise PermissionDenied


def create_article(
    *,
    actor,
    data: ArticleData,
    submit: bool = False,
    source_case: Case | None = None,
    now: datetime | None = None,
) -> ArticleVersion:
    """A new article with its first version, a draft (or in review with `submit`)."""
    _may_write(actor)
    now = now or timezone.now()
    values = _checked(actor, data)
    status = ArticleStatus.IN_REVIEW if submit else ArticleStatus.DRAFT
    with transaction.atomic(durable=True):
        article = Article.objects.create(
            status=status,
            created_by=actor,
            created_at=now,
            updated_at=now,
            **{name: values[name] for name in FACE},
        )
        return ArticleVersion.objects.create(
            article=article,
            number=1,
            status=status,
            change_note=values["change_note"],
            source_case=source_case,
            author=actor,
            created_at=now,
            submitted_at=now if submit else None,
            **{name: values[name] for name in FACE},
        )


def propose_from_case(
    *, actor, case: Case, data: ArticleData, now: datetime | None = None
) -> ArticleVersion:
    """An article proposed from a resolved (or closed) case, sent for review at once."""
    if case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        raise InvalidArticleData(_("Propose an article from a case once it is resolved."))
    return create_article(actor=actor, data=data, submit=True, source_case=case, now=now)


def revise_article(
    *, actor, article: Article, data: ArticleData, submit: bool = False, now=None
) -> ArticleVersion:
    """A new version of the article. The article in force stays as it is until a reviewer
    publishes the new version; earlier pending versions are set aside (archived), so one
    version at a time waits for review. An article never published shows its latest
    wording."""
    _may_write(actor)
    now = now or timezone.now()
    values = _checked(actor, data)
    status = ArticleStatus.IN_REVIEW if submit else ArticleStatus.DRAFT
    with transaction.atomic(durable=True):
        locked = Article.objects.select_for_update().get(id=article.id)
        if locked.status == ArticleStatus.ARCHIVED and not article_selectors.may_review(actor):
            raise ArticleNotFound
        last = ArticleVersion.objects.filter(article=locked).order_by("-number").first()
        ArticleVersion.objects.filter(article=locked, status__in=PENDING).update(
            status=ArticleStatus.ARCHIVED
        )
        version = ArticleVersion.objects.create(
            article=locked,
            number=(last.number if last else 0) + 1,
            status=status,
            change_note=values["change_note"],
            author=actor,
            created_at=now,
            submitted_at=now if submit else None,
            **{name: values[name] for name in FACE},
        )
        changed = ["updated_at"]
        if locked.published_version_id is None:
            for name in FACE:
                setattr(locked, name, values[name])
            locked.status = status
            changed += [*FACE, "status"]
        locked.updated_at = now
        locked.save(update_fields=changed)
        return version


def submit_article(*, actor, article: Article, now: datetime | None = None) -> ArticleVersion:
    """Send the pending draft for review."""
    _may_write(actor)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        locked = Article.objects.select_for_update().get(id=article.id)
        draft = (
            ArticleVersion.objects.filter(article=locked, status=ArticleStatus.DRAFT)
            .order_by("-number")
            .first()
        )
        if draft is None:
            raise NothingToReview
        draft.status, draft.submitted_at = ArticleStatus.IN_REVIEW, now
        draft.save(update_fields=["status", "submitted_at"])
        if locked.published_version_id is None:
            locked.status = ArticleStatus.IN_REVIEW
            locked.save(update_fields=["status"])
        return draft


def _pending_for_review(actor, locked: Article, number: int | None) -> ArticleVersion:
    """The version a reviewer acts on: the one they saw (`number`) if still pending, else
    the newest pending one. Refused to its own author."""
    if not article_selectors.may_review(actor):
        raise ArticleReviewRefused
    pending = ArticleVersion.objects.filter(article=locked, status__in=PENDING)
    if number is not None:
        pending = pending.filter(number=number)
    version = pending.order_by("-number").first()
    if version is None:
        if number is not None:
            raise ArticleAlreadyReviewed
        raise NothingToReview
    if version.author_id == actor.id:
        raise OwnArticleReview
    return version


def _claim(version: ArticleVersion, actor, status: str, now: datetime) -> None:
    """Move the version out of draft/review once: a second reviewer finds nothing to move."""
    moved = ArticleVersion.objects.filter(id=version.id, status__in=PENDING).update(
        status=status, reviewer=actor, reviewed_at=now
    )
    if moved != 1:
        raise ArticleAlreadyReviewed


def publish_article(
    *, actor, article: Article, number: int | None = None, now: datetime | None = None
) -> ArticleVersion:
    """A second person publishes the pending version (the one numbered `number`, if given):
    it becomes the article in force, the one it replaces is archived."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        locked = Article.objects.select_for_update().get(id=article.id)
        version = _pending_for_review(actor, locked, number)
        _claim(version, actor, ArticleStatus.PUBLISHED, now)
        if locked.published_version_id:
            ArticleVersion.objects.filter(id=locked.published_version_id).update(
                status=ArticleStatus.ARCHIVED
            )
        for name in FACE:
            setattr(locked, name, getattr(version, name))
        locked.status = ArticleStatus.PUBLISHED
        locked.published_version = version
        locked.published_at = locked.updated_at = now
        locked.save(
            update_fields=[
                *FACE,
                "status",
                "published_version",
                "published_at",
                "updated_at",
            ]
        )
        version.refresh_from_db()
        return version


def return_article(
    *, actor, article: Article, number: int | None = None, now: datetime | None = None
) -> ArticleVersion:
    """A reviewer sends the pending version back: it is archived, the article in force (if
    any) stays; the author writes a new version."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        locked = Article.objects.select_for_update().get(id=article.id)
        version = _pending_for_review(actor, locked, number)
        _claim(version, actor, ArticleStatus.ARCHIVED, now)
        if locked.published_version_id is None:
            locked.status = ArticleStatus.DRAFT
        locked.updated_at = now
        locked.save(update_fields=["status", "updated_at"])
        version.refresh_from_db()
        return version


def archive_article(*, actor, article: Article, now: datetime | None = None) -> Article:
    """A reviewer withdraws the article: no longer suggested or found by operators."""
    if not article_selectors.may_review(actor):
        raise ArticleReviewRefused
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        locked = Article.objects.select_for_update().get(id=article.id)
        if locked.status == ArticleStatus.ARCHIVED:
            raise ArticleAlreadyReviewed
        ArticleVersion.objects.filter(article=locked, status__in=PENDING).update(
            status=ArticleStatus.ARCHIVED
        )
        locked.status, locked.updated_at = ArticleStatus.ARCHIVED, now
        locked.save(update_fields=["status", "updated_at"])
        return locked


# --- Use on cases ----------------------------------------------------------------------------


def record_article_use(
    *,
    actor,
    article: Article,
    kind: str,
    contract: Contract,
    case: Case | None = None,
    category_code: str = "",
    now: datetime | None = None,
) -> CaseArticleUse:
    """An article opened or inserted from the suggestions of `case` (or of the intake page
    for `contract`). The article must be published and apply to the contract for the actor
    (the same read as the suggestions); the caller fetched the case through its selector."""
    if kind not in CaseArticleUse.Kind.values:
        raise InvalidArticleData(fields={"kind": [_("Opened or inserted.")]})
    if case is not None and case.contract_id != contract.id:
        raise InvalidArticleData(fields={"contract": [_("Unknown contract.")]})
    version_id = (
        article_selectors.published_articles_for(actor, contract=contract)
        .filter(id=article.id)
        .values_list("published_version_id", flat=True)
        .first()
    )
    if version_id is None:
        raise ArticleNotFound
    with transaction.atomic(durable=True):
        return CaseArticleUse.objects.create(
            case=case,
            contract=contract,
            category_code=(category_code or "")[:50],
            article_id=article.id,
            article_version_id=version_id,
            kind=kind,
            by=actor,
            at=now or timezone.now(),
        )


def attach_intake_uses(case: Case) -> int:
    """The articles its opener used at intake join the case just opened: their case-less
    uses on the same contract in the 30 minutes before. Returns how many. Called by
    `services.open_case` inside its transaction (one UPDATE: no savepoint of its own)."""
    if case.opened_by_id is None:
        return 0
    return CaseArticleUse.objects.filter(
        case__isnull=True,
        by_id=case.opened_by_id,
        contract_id=case.contract_id,
        at__gte=case.opened_at - INTAKE_WINDOW,
    ).update(case=case)
