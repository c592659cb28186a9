"""REST API of transactional single sends: POST one number and one text, with an
Idempotency-Key header (sms.single_sends)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_fields import StrictCharField
from sms.encoding import count
from sms.models import SmsMessage
from sms.single_sends import KEY, sms_send_single

TAG = ["SMS"]
KEY_PATTERN = f"^{KEY.pattern}$"
WAITING = {SmsMessage.Status.QUEUED, SmsMessage.Status.SENDING}


class SingleSendRequestSerializer(serializers.Serializer):
    mobile = StrictCharField(
        max_length=32, help_text="The recipient: E.164 (+33612345678) or national in the "
        "account's phone region. It need not be a contact."
    )  # fmt: skip
    text = StrictCharField(
        max_length=1600, help_text="Sent as written: no merge tags, no opt-out mention."
    )
    sender = StrictCharField(
        max_length=16,
        required=False,
        help_text="One of the account's senders; default: the account's first sender.",
    )


class SingleSendSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="message.pk")
    mobile = serializers.CharField(source="message.mobile")
    text = serializers.CharField(source="message.text")
    sender = serializers.CharField()
    status = serializers.ChoiceField(
        choices=SmsMessage.Status.choices,
        source="message.status",
        help_text="sent, or sandboxed with a test key; queued when the provider is unreachable "
        "(a worker sends it; retrying with the same key tries too); failed when it refused.",
    )
    encoding = serializers.SerializerMethodField()
    segments = serializers.SerializerMethodField()
    sandbox = serializers.BooleanField()
    error = serializers.CharField(source="message.error")
    sent_at = serializers.DateTimeField(source="message.sent_at", allow_null=True)
    created_at = serializers.DateTimeField(source="message.created_at")

    def get_encoding(self, sent) -> str:
        return str(count(sent.message.text).encoding)

    def get_segments(self, sent) -> int:
        return sent.message.segments or count(sent.message.text).segments


class SmsSingleSendView(APIView):
    @extend_schema(
        summary="Send one transactional SMS now",
        description="One number (a contact or not) and one text, sent at once whatever the hour, "
        "without the opt-out mention. A number that replied STOP is refused (409 "
        "`number_suppressed`). The `Idempotency-Key` header makes retries safe: the same key "
        "with the same body answers the first result and sends nothing more; with another body "
        "it is a 409 `idempotency_key_reused`, and while the first request with the key is "
        "still being sent, a 409 `idempotency_key_in_use` (retry it a few seconds later). "
        "With a test API key nothing leaves the platform: "
        "the SMS is kept in the SMS outbox.",
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                location=OpenApiParameter.HEADER,
                required=True,
                pattern=KEY_PATTERN,
                description="Your own unique key for this SMS (e.g. the order number).",
            )
        ],
        request=SingleSendRequestSerializer,
        responses={
            201: SingleSendSerializer,
            202: OpenApiResponse(
                SingleSendSerializer,
                description="Queued: the provider is unreachable now, a worker sends it.",
            ),
        },  # fmt: skip
        tags=TAG,
    )
    def post(self, request):
        serializer = SingleSendRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sent = sms_send_single(
            account=request.account,
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            sandbox=request.auth.is_test,
            **serializer.validated_data,
        )
        headers = {"Idempotent-Replayed": "true"} if sent.replayed else {}
        code = (
            status.HTTP_202_ACCEPTED if sent.message.status in WAITING else status.HTTP_201_CREATED
        )
        return Response(SingleSendSerializer(sent).data, status=code, headers=headers)
