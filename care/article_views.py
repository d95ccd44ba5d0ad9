"""Knowledge-base pages: the list with its search, the article (rendered, with its versions
and history), the form (write, revise, propose from a resolved case), the review queue, and
the suggestion panel of the intake and case pages with the record of an article's use.

Each action posts to its own URL, calls one service of `care.articles` and redirects back
(POST-redirect-GET); a refusal is said at the top of the page. Searches are posted, so what
an operator typed stays out of URLs."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from care import article_selectors, articles, privacy, selectors
from care.exceptions import CaseNotFound
from care.models import Article, ArticleScope, ArticleStatus, CaseArticleUse
from config.errors import InvalidInput, PresidioError
from config.forms import add_service_errors, service_error_message
from config.inputs import InputForm
from config.permissions import capability_required
from contracts.models import Client, Contract, Service

READ = article_selectors.READ_CAPABILITIES
REVIEW = article_selectors.REVIEW_CAPABILITIES
LISTED = 100


class ArticleSearchForm(InputForm):
    q = forms.CharField(label=gettext_lazy("Search the articles"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[("", gettext_lazy("Any")), *ArticleStatus.choices],
        required=False,
    )


class ArticleForm(InputForm):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("Text"),
        max_length=articles.MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=gettext_lazy("Markdown: ## headings, - lists, **bold**, [links](https://…)."),
    )
    scope = forms.ChoiceField(label=gettext_lazy("Who it is for"), choices=ArticleScope.choices)
    service = forms.ChoiceField(
        label=gettext_lazy("Service"), choices=[("", "—"), *Service.choices], required=False
    )
    client = forms.ModelChoiceField(
        label=gettext_lazy("Client"), queryset=Client.objects.none(), required=False
    )
    contract = forms.CharField(label=gettext_lazy("Contract (code)"), max_length=50, required=False)
    tags = forms.CharField(
        label=gettext_lazy("Category tags"),
        max_length=500,
        required=False,
        help_text=gettext_lazy("Category codes separated by spaces, e.g. sim-lost roaming."),
    )
    change_note = forms.CharField(
        label=gettext_lazy("What changed"), max_length=300, required=False
    )
    submit_for_review = forms.BooleanField(
        label=gettext_lazy("Send for review now"), required=False, initial=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.order_by("name")

    def article_data(self) -> articles.ArticleData:
        data = self.cleaned_data
        return articles.ArticleData(
            title=data["title"],
            body=data["body"],
            scope=data["scope"],
            service=data["service"],
            client_id=data["client"].id if data["client"] else None,
            contract_code=data["contract"],
            tags=data["tags"].replace(",", " ").split(),
            change_note=data["change_note"],
        )


def _article(request, article_id: int) -> Article:
    return article_selectors.article_by_id(request.user, article_id)  # 404 by the middleware


@require_http_methods(["GET", "POST"])
@capability_required(*READ)
def article_list(request):
    """Articles in the reader's scope; a posted search ranks them with snippets."""
    form = ArticleSearchForm(request.POST or None)
    found, text = None, ""
    if form.is_bound and form.is_valid():
        text = form.cleaned_data["q"]
    listed = article_selectors.articles_visible_to(request.user)
    wanted = form.cleaned_data.get("status") if form.is_bound and form.is_valid() else ""
    if wanted:
        listed = listed.filter(status=wanted)
    may_review = article_selectors.may_review(request.user)
    if text.strip():
        found = article_selectors.search_articles(request.user, text=text)
        if wanted:
            found = [item for item in found if item.article.status == wanted]
    return render(
        request,
        "care/article_list.html",
        {
            "form": form,
            "found": found,
            "articles": None if found is not None else listed.order_by("title", "id")[:LISTED],
            "may_review": may_review,
            "in_review": article_selectors.review_queue().count() if may_review else 0,
        },
    )


@require_GET
@capability_required(*READ)
def article_detail(request, article_id: int):
    article = _article(request, article_id)
    versions = list(article_selectors.article_versions(article))
    pending = next((v for v in versions if v.status in articles.PENDING), None)
    may_review = article_selectors.may_review(request.user)
    return render(
        request,
        "care/article_detail.html",
        {
            "article": article,
            "versions": versions,
            "pending": pending,
            "may_review": may_review,
            "may_publish": may_review
            and pending is not None
            and pending.author_id != request.user.id,
            "is_archived": article.status == ArticleStatus.ARCHIVED,
        },
    )


def _initial_from_case(request) -> tuple[dict, object]:
    """A proposal from a resolved case: its category as title and tag, its contract as
    scope, its subject line (masked as the caller is for this reader) and resolution code as
    the start of the text. No note is copied: the author writes the answer for everyone."""
    reference = request.GET.get("case") or request.POST.get("case") or ""
    if not reference:
        return {"scope": ArticleScope.ALL, "submit_for_review": False}, None
    try:
        case = selectors.case_by_reference(request.user, reference)
    except CaseNotFound:
        return {"scope": ArticleScope.ALL, "submit_for_review": False}, None
    subject = privacy.shown_text(case.subject, in_full=privacy.sees_in_full(request.user, case))
    initial = {
        "title": case.category.name,
        "body": _("## Request\n\n%(subject)s\n\n## How it was solved\n\n%(resolution)s\n")
        % {"subject": subject, "resolution": case.resolution_code},
        "scope": ArticleScope.CONTRACT,
        "contract": case.contract.code,
        "tags": case.category.code,
        "submit_for_review": True,
    }
    return initial, case


@require_http_methods(["GET", "POST"])
@capability_required(*READ)
def article_create(request):
    initial, case = _initial_from_case(request)
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if case is not None:
                version = articles.propose_from_case(
                    actor=request.user, case=case, data=form.article_data()
                )
            else:
                version = articles.create_article(
                    actor=request.user,
                    data=form.article_data(),
                    submit=form.cleaned_data["submit_for_review"],
                )
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Article saved (version %(n)s).") % {"n": version.number})
            return redirect("care:article-detail", article_id=version.article_id)
    return render(
        request, "care/article_form.html", {"form": form, "article": None, "source_case": case}
    )


@require_http_methods(["GET", "POST"])
@capability_required(*READ)
def article_edit(request, article_id: int):
    article = _article(request, article_id)
    latest = article_selectors.article_versions(article).first()
    initial = {
        "title": latest.title,
        "body": latest.body,
        "scope": latest.scope,
        "service": latest.service,
        "client": latest.client_id,
        "contract": latest.contract.code if latest.contract else "",
        "tags": latest.tags,
        "submit_for_review": True,
    }
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version = articles.revise_article(
                actor=request.user,
                article=article,
                data=form.article_data(),
                submit=form.cleaned_data["submit_for_review"],
            )
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Version %(n)s saved.") % {"n": version.number})
            return redirect("care:article-detail", article_id=article.id)
    return render(
        request, "care/article_form.html", {"form": form, "article": article, "source_case": None}
    )


def _review_action(request, article_id: int, action, done: str):
    article = _article(request, article_id)
    number = request.POST.get("version") or ""
    try:
        action(
            actor=request.user,
            article=article,
            **({"number": int(number)} if number.isdigit() and len(number) < 9 else {}),
        )
    except PresidioError as error:
        messages.error(request, service_error_message(error))
    else:
        messages.success(request, done)
    return redirect("care:article-detail", article_id=article.id)


@require_POST
@capability_required(*REVIEW)
def article_publish(request, article_id: int):
    return _review_action(request, article_id, articles.publish_article, _("Published."))


@require_POST
@capability_required(*REVIEW)
def article_return(request, article_id: int):
    return _review_action(
        request, article_id, articles.return_article, _("Sent back to its author.")
    )


@require_POST
@capability_required(*READ)
def article_submit(request, article_id: int):
    article = _article(request, article_id)
    try:
        articles.submit_article(actor=request.user, article=article)
    except PresidioError as error:
        messages.error(request, service_error_message(error))
    else:
        messages.success(request, _("Sent for review."))
    return redirect("care:article-detail", article_id=article.id)


@require_POST
@capability_required(*REVIEW)
def article_archive(request, article_id: int):
    article = _article(request, article_id)
    try:
        articles.archive_article(actor=request.user, article=article)
    except PresidioError as error:
        messages.error(request, service_error_message(error))
    else:
        messages.success(request, _("Article archived: operators no longer find it."))
    return redirect("care:article-detail", article_id=article.id)


@require_GET
@capability_required(*REVIEW)
def article_review_queue(request):
    return render(
        request,
        "care/article_review.html",
        {"versions": article_selectors.review_queue()[:LISTED], "me": request.user.id},
    )


# --- The suggestion panel (intake and case page) ---------------------------------------------


class SuggestForm(InputForm):
    """What the panel posts: the contract (and the case on its page), the category chosen
    and the text typed so far in the subject, description or note box."""

    contract = forms.CharField(max_length=50)
    case = forms.CharField(max_length=20, required=False)
    category = forms.SlugField(max_length=50, required=False)
    subject = forms.CharField(required=False, max_length=articles.MAX_BODY)
    description = forms.CharField(required=False, max_length=articles.MAX_BODY)
    body = forms.CharField(required=False, max_length=articles.MAX_BODY)


class ArticleUseForm(InputForm):
    article = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    kind = forms.ChoiceField(choices=CaseArticleUse.Kind.choices)
    contract = forms.CharField(max_length=50)
    case = forms.CharField(max_length=20, required=False)
    category = forms.SlugField(max_length=50, required=False)


def _context_of(request, data: dict):
    """The contract (and case) the panel works for: the case through its selector (whoever
    may not open it gets nothing), the contract by code."""
    if data.get("case"):
        # Asked on every pause in typing: the case's contract and category only.
        case = (
            selectors.cases_visible_to(request.user)
            .filter(reference=data["case"].strip().upper())
            .select_related("contract", "category")
            .first()
        )
        if case is None:
            raise CaseNotFound
        return case.contract, case, data.get("category") or case.category.code
    contract = Contract.objects.filter(code=data["contract"].strip().upper()).first()
    if contract is None:
        raise InvalidInput(fields={"contract": [_("Unknown contract.")]})
    return contract, None, data.get("category") or ""


@require_POST
@capability_required(*READ)
def article_suggest(request):
    form = SuggestForm(request.POST)
    found, contract, case, category = [], None, None, ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            contract, case, category = _context_of(request, data)
        except PresidioError:
            contract = None
        if contract is not None:
            text = " ".join(data[name] for name in ("subject", "description", "body") if data[name])
            found = article_selectors.suggested_articles(
                request.user, contract=contract, category_code=category, text=text[-600:]
            )
    return render(
        request,
        "care/partials/article_suggestion_list.html",
        {"found": found, "contract": contract, "case": case, "category": category},
    )


@require_POST
@capability_required(*READ)
def article_use(request):
    """Record that a suggested article was opened or inserted into a note (204)."""
    form = ArticleUseForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    data = form.cleaned_data
    try:
        contract, case, category = _context_of(request, data)
        article = article_selectors.article_by_id(request.user, data["article"])
        articles.record_article_use(
            actor=request.user,
            article=article,
            kind=data["kind"],
            contract=contract,
            case=case,
            category_code=category,
        )
    except PresidioError as error:
        return HttpResponse(status=error.status)
    return HttpResponse(status=204)
