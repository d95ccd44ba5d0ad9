"""REST endpoints of saved replies (DESIGN.md §7 `replies/`): `replies/` (GET the replies
available to the caller, rendered for `?case=<reference>`; POST creates one) and
`replies/{id}/` (GET, PATCH, DELETE). Same services and rules as the pages (care.replies)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from care import replies, reply_selectors, selectors
from care.models import SavedReply
from config import access_log
from config.inputs import InputSerializer
from config.permissions import capability

UseReplies = capability("handle_cases", "supervise", "manage_contracts")


class SavedReplySerializer(serializers.ModelSerializer):
    contract = serializers.CharField(source="contract.code", default=None, allow_null=True)
    queue = serializers.CharField(source="queue_code")
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = SavedReply
        fields = ["id", "scope", "title", "body", "contract", "queue", "can_edit", "updated_at"]

    def get_can_edit(self, reply) -> bool:
        return reply_selectors.may_manage(self.context["request"].user, reply)


class RenderedReplySerializer(SavedReplySerializer):
    text = serializers.CharField(help_text="The body with the case's values filled in.")

    class Meta(SavedReplySerializer.Meta):
        fields = [*SavedReplySerializer.Meta.fields, "text"]


class SavedReplyInput(InputSerializer):
    scope = serializers.ChoiceField(choices=SavedReply.Scope.choices)
    title = serializers.CharField(max_length=replies.TITLE_MAX, allow_blank=True)
    body = serializers.CharField(
        max_length=replies.BODY_MAX, allow_blank=True, trim_whitespace=False
    )
    contract = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    queue = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


def _data(validated: dict, *, partial: bool) -> replies.ReplyData:
    given = tuple(validated) if partial else replies.FIELDS
    return replies.ReplyData(**validated, given=given)


def _one(request, reply: SavedReply, *, status_code: int = 200) -> Response:
    serializer = SavedReplySerializer(reply, context={"request": request})
    return Response(serializer.data, status=status_code)


class ReplyListCreateApi(APIView):
    permission_classes = [UseReplies]

    @extend_schema(
        parameters=[OpenApiParameter("case", str, description="a case reference")],
        responses=RenderedReplySerializer(many=True),
    )
    def get(self, request):
        """The caller's personal replies, team and contract replies; with `?case=` only
        those usable on that case, each with its `text` rendered for it (the caller's name
        masked as the case page shows it to you)."""
        reference = request.query_params.get("case")
        context = {"request": request}
        if not reference:
            rows = reply_selectors.replies_visible_to(request.user)
            return Response(SavedReplySerializer(rows, many=True, context=context).data)
        case = selectors.case_by_reference(request.user, reference)
        # The caller's name is filled in (masked or not): logged as the case page is.
        access_log.note(
            request,
            end_users=[case.end_user_id] if case.end_user_id else [],
            case=case.reference,
        )
        rendered = reply_selectors.rendered_for_case(request.user, case)
        rows = []
        for item in rendered:
            item.reply.text = item.text
            rows.append(item.reply)
        return Response(RenderedReplySerializer(rows, many=True, context=context).data)

    @extend_schema(request=SavedReplyInput, responses={201: SavedReplySerializer})
    def post(self, request):
        serializer = SavedReplyInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        reply = replies.create_reply(
            actor=request.user, data=_data(serializer.validated_data, partial=False)
        )
        return _one(request, reply, status_code=status.HTTP_201_CREATED)


class ReplyDetailApi(APIView):
    permission_classes = [UseReplies]

    @extend_schema(responses=SavedReplySerializer)
    def get(self, request, reply_id: int):
        return _one(request, reply_selectors.reply_by_id(request.user, reply_id))

    @extend_schema(request=SavedReplyInput(partial=True), responses=SavedReplySerializer)
    def patch(self, request, reply_id: int):
        reply = reply_selectors.reply_by_id(request.user, reply_id)
        serializer = SavedReplyInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        reply = replies.update_reply(
            actor=request.user, reply=reply, data=_data(serializer.validated_data, partial=True)
        )
        return _one(request, reply)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, reply_id: int):
        reply = reply_selectors.reply_by_id(request.user, reply_id)
        replies.delete_reply(actor=request.user, reply=reply)
        return Response(status=status.HTTP_204_NO_CONTENT)
