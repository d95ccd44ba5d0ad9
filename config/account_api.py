"""REST endpoints of API tokens (administrators: `tokens/`, `tokens/{id}/revoke/`) and of a
user's own sessions (`me/sessions/`, `me/sessions/{id}/end/`). Same services as the pages
(config.tokens, config.sessions)."""

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config import sessions, tokens
from config.errors import InvalidInput
from config.inputs import InputSerializer
from config.models import ApiToken, UserSession
from config.permissions import capability

Administer = capability("administer")


class TokenSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    revoked_by = serializers.CharField(source="revoked_by.username", default=None, allow_null=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "owner",
            "scopes",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "revoked_by",
            "status",
        ]

    def get_status(self, token) -> str:
        return token.status(self.context["now"])


class IssuedTokenSerializer(TokenSerializer):
    secret = serializers.CharField(help_text="Shown this once: keep it, it cannot be read again.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "secret"]


class TokenInput(InputSerializer):
    name = serializers.CharField(max_length=100, allow_blank=True)
    owner = serializers.CharField(max_length=150, help_text="the owner's username")
    scopes = serializers.ListField(child=serializers.CharField(max_length=40), max_length=60)
    expires_at = serializers.DateTimeField()


class TokenListApi(generics.ListAPIView):
    """Every API token (never its secret), newest first; POST issues one."""

    permission_classes = [Administer]
    serializer_class = TokenSerializer

    def get_queryset(self):
        return tokens.tokens_listed()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(request=TokenInput, responses={201: IssuedTokenSerializer})
    def post(self, request):
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        owner = get_user_model().objects.filter(username=values["owner"]).first()
        if owner is None:
            raise InvalidInput(fields={"owner": [_("No user has this username.")]})
        now = timezone.now()
        token, secret = tokens.issue_token(
            actor=request.user,
            owner=owner,
            name=values["name"],
            scopes=values["scopes"],
            expires_at=values["expires_at"],
            now=now,
        )
        token.secret = secret
        body = IssuedTokenSerializer(token, context={"now": now}).data
        return Response(body, status=status.HTTP_201_CREATED)


class TokenRevokeApi(APIView):
    permission_classes = [Administer]

    class Input(InputSerializer):
        reason = serializers.CharField(max_length=300, required=False, allow_blank=True)

    @extend_schema(request=Input, responses=TokenSerializer)
    def post(self, request, token_id: int):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        now = timezone.now()
        token = tokens.revoke_token(
            actor=request.user,
            token_id=token_id,
            reason=data.validated_data.get("reason", ""),
            now=now,
        )
        return Response(TokenSerializer(token, context={"now": now}).data)


class SessionSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = UserSession
        fields = ["id", "user_agent", "network", "signed_in_at", "last_seen_at", "current"]

    def get_current(self, row) -> bool:
        return row.session_id == self.context["current_key"]


class MySessionListApi(generics.ListAPIView):
    """The caller's own signed-in sessions (`network`: the address masked to its /24)."""

    serializer_class = SessionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's dry run: no user
            return UserSession.objects.none()
        return sessions.sessions_of(self.request.user)

    def get_serializer_context(self):
        current = getattr(self.request, "session", None)
        key = current.session_key if current is not None else None
        return {**super().get_serializer_context(), "current_key": key}


class MySessionEndApi(APIView):
    @extend_schema(
        request=None,
        responses=inline_serializer("SessionsEnded", {"ended": serializers.IntegerField()}),
    )
    def post(self, request, session_id: int):
        """End one of your sessions: that browser is signed out."""
        ended = sessions.end_session(actor=request.user, session_id=session_id, now=timezone.now())
        return Response({"ended": ended})
