"""REST endpoints of the knowledge base (DESIGN.md §7): `articles/?q=&contract=` (search
within the caller's scope; POST creates a draft), `articles/{id}/` (GET with its versions;
PATCH writes a new version) and `articles/{id}/publish/` (a second person). Same services
and rules as the pages (care.articles, care.article_selectors)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from care import article_selectors, articles
from care.models import Article, ArticleScope, ArticleVersion
from config.errors import InvalidInput
from config.inputs import InputSerializer
from config.permissions import capability
from contracts.models import Contract, Service

ReadArticles = capability(*article_selectors.READ_CAPABILITIES)


class ArticleSerializer(serializers.ModelSerializer):
    client = serializers.IntegerField(source="client_id", allow_null=True)
    contract = serializers.CharField(source="contract.code", default=None, allow_null=True)
    tags = serializers.ListField(source="tag_list", child=serializers.CharField())
    version = serializers.IntegerField(
        source="published_version.number", default=None, allow_null=True
    )

    class Meta:
        model = Article
        fields = [
            "id",
            "title",
            "status",
            "scope",
            "service",
            "client",
            "contract",
            "tags",
            "version",
            "published_at",
            "updated_at",
        ]


class ArticleFoundSerializer(serializers.Serializer):
    """A search result: the article, its rank and the text around the hits (HTML: escaped,
    hits in `<mark>`)."""

    article = ArticleSerializer()
    rank = serializers.FloatField()
    snippet = serializers.CharField()


class ArticleSearchSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = ArticleFoundSerializer(many=True)


class ArticleVersionSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")
    reviewer = serializers.CharField(source="reviewer.username", default=None, allow_null=True)
    client = serializers.IntegerField(source="client_id", allow_null=True)
    contract = serializers.CharField(source="contract.code", default=None, allow_null=True)
    tags = serializers.SerializerMethodField()
    source_case = serializers.CharField(
        source="source_case.reference", default=None, allow_null=True
    )

    class Meta:
        model = ArticleVersion
        fields = [
            "number",
            "status",
            "title",
            "body",
            "body_html",
            "scope",
            "service",
            "client",
            "contract",
            "tags",
            "change_note",
            "source_case",
            "author",
            "created_at",
            "submitted_at",
            "reviewer",
            "reviewed_at",
        ]

    def get_tags(self, version) -> list[str]:
        return version.tags.split()


class ArticleDetailSerializer(ArticleSerializer):
    versions = serializers.SerializerMethodField()

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "body", "body_html", "versions"]

    def get_versions(self, article) -> list[dict]:
        return ArticleVersionSerializer(article_selectors.article_versions(article), many=True).data


class ArticleInput(InputSerializer):
    """Shape only; the rules (a scope target in the author's reach...) are the service's."""

    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=articles.MAX_BODY)
    scope = serializers.ChoiceField(choices=ArticleScope.choices)
    service = serializers.ChoiceField(
        choices=Service.choices, required=False, allow_blank=True, default=""
    )
    client = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    contract = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list, max_length=50
    )
    change_note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300
    )
    submit = serializers.BooleanField(required=False, default=False)


class ArticlePublishInput(InputSerializer):
    version = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)


def _data(validated: dict) -> articles.ArticleData:
    return articles.ArticleData(
        title=validated["title"],
        body=validated["body"],
        scope=validated["scope"],
        service=validated["service"],
        client_id=validated["client"],
        contract_code=validated["contract"],
        tags=validated["tags"],
        change_note=validated["change_note"],
    )


def _detail(request, article_id: int, *, status_code: int = 200) -> Response:
    article = article_selectors.article_by_id(request.user, article_id)
    return Response(ArticleDetailSerializer(article).data, status=status_code)


def _contract(code: str) -> Contract | None:
    if not code:
        return None
    contract = Contract.objects.filter(code=code.strip().upper()).first()
    if contract is None:
        raise InvalidInput(fields={"contract": [_("Unknown contract.")]})
    return contract


class ArticleListCreateApi(APIView):
    """Search within the caller's scope, best first (top 50): `q` the words (accents and
    apostrophes do not matter; more than 200 characters: 400), `contract` narrows to the
    published articles applying to that contract. POST creates a draft (`"submit": true`
    sends it for review)."""

    permission_classes = [ReadArticles]

    @extend_schema(
        operation_id="articles_search",
        parameters=[
            OpenApiParameter("q", str, description="Words to look for"),
            OpenApiParameter("contract", str, description="Contract code"),
        ],
        responses=ArticleSearchSerializer,
    )
    def get(self, request):
        text = request.query_params.get("q") or ""
        contract = _contract(request.query_params.get("contract") or "")
        found = article_selectors.search_articles(request.user, text=text, contract=contract)
        return Response(ArticleSearchSerializer({"count": len(found), "results": found}).data)

    @extend_schema(request=ArticleInput, responses={201: ArticleDetailSerializer})
    def post(self, request):
        serializer = ArticleInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = articles.create_article(
            actor=request.user,
            data=_data(serializer.validated_data),
            submit=serializer.validated_data["submit"],
        )
        return _detail(request, version.article_id, status_code=status.HTTP_201_CREATED)


class ArticleDetailApi(APIView):
    permission_classes = [ReadArticles]

    @extend_schema(responses=ArticleDetailSerializer)
    def get(self, request, article_id: int):
        return _detail(request, article_id)

    @extend_schema(request=ArticleInput, responses=ArticleDetailSerializer)
    def patch(self, request, article_id: int):
        """A new version (a draft, or in review with `"submit": true`); fields not sent keep
        the latest version's values. The article in force changes when it is published."""
        article = article_selectors.article_by_id(request.user, article_id)
        if not isinstance(request.data, dict):
            raise InvalidInput(_("Send the fields to change as a JSON object."))
        latest = article_selectors.article_versions(article).first()
        current = {
            "title": latest.title,
            "body": latest.body,
            "scope": latest.scope,
            "service": latest.service,
            "client": latest.client_id,
            "contract": latest.contract.code if latest.contract else "",
            "tags": latest.tags.split(),
        }
        serializer = ArticleInput(data={**current, **request.data})
        serializer.is_valid(raise_exception=True)
        articles.revise_article(
            actor=request.user,
            article=article,
            data=_data(serializer.validated_data),
            submit=serializer.validated_data["submit"],
        )
        return _detail(request, article.id)


class ArticlePublishApi(APIView):
    """A second person publishes the pending version (`version`: the number they reviewed;
    if another reviewer got there first, 409 and nothing changes)."""

    permission_classes = [ReadArticles]

    @extend_schema(request=ArticlePublishInput, responses=ArticleDetailSerializer)
    def post(self, request, article_id: int):
        article = article_selectors.article_by_id(request.user, article_id)
        serializer = ArticlePublishInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        articles.publish_article(
            actor=request.user, article=article, number=serializer.validated_data["version"]
        )
        return _detail(request, article.id)
