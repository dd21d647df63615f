"""Subject access requests through the API: the desk's rules, through accounts.sar.

An integration (a CRM) logs a request that came by letter, email or telephone, reads its
clock, and, with a role that answers them (managers, the Company Secretary), extends,
prepares, sends or refuses it, exactly as the desk does.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.models import Customer, SubjectAccessRequest
from accounts.sar import (
    SarRuleError,
    sar_extend,
    sar_fulfil,
    sar_open,
    sar_refuse,
    sar_response_prepare,
)
from complaints.api.idempotency import idempotent
from complaints.api.problems import Problem, validation_problem
from complaints.api.views import ERRORS, ApiView, _need, _not_found

SAR = SubjectAccessRequest
API_CHANNELS = [c for c in SAR.Channel.values if c != SAR.Channel.PORTAL]


class SarSerializer(serializers.ModelSerializer):
    customer = serializers.PrimaryKeyRelatedField(read_only=True)
    response_ready = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = SAR
        fields = [
            "reference",
            "url",
            "customer",
            "channel",
            "received_at",
            "details",
            "state",
            "due_on",
            "extended_due_on",
            "current_due_on",
            "extension_reason",
            "extension_told_at",
            "closed_at",
            "refusal_reason",
            "response_ready",
            "created_at",
        ]
        read_only_fields = fields

    def get_response_ready(self, sar) -> bool:
        return sar.bundle_id is not None and sar.bundle.state == "ready"

    def get_url(self, sar) -> str:
        return reverse("api:sar-detail", kwargs={"sar_reference": sar.reference})


class SarCreateSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="The customer's id (see /customers/).")
    channel = serializers.ChoiceField(choices=API_CHANNELS)
    received_at = serializers.DateTimeField(
        required=False,
        help_text="When it reached us; the clock counts from this day. Now if left out.",
    )
    details = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class SarExtendSerializer(serializers.Serializer):
    months = serializers.ChoiceField(choices=[1, 2])
    reason = serializers.CharField(max_length=5000, help_text="Told to the customer.")


class SarRefuseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, help_text="Told to the customer.")


def _rule_problem(exc: SarRuleError) -> Problem:
    return Problem(409, "sar-rule", "Not allowed for this request", str(exc))


def _sar(request, reference: str) -> SubjectAccessRequest:
    _need(request.user, "accounts.view_subjectaccessrequest", "read subject access requests")
    sar = (
        SAR.objects.select_related("bundle", "customer")
        .filter(reference=reference.strip().upper())
        .first()
    )
    if sar is None:
        raise _not_found(f"Subject access request {reference}")
    return sar


@extend_schema(tags=["subject access requests"])
class SarList(ApiView):
    """List a customer's subject access requests; log one received by letter, email or phone."""

    @extend_schema(
        parameters=[OpenApiParameter("customer", int, required=True)],
        responses={200: SarSerializer(many=True), **ERRORS},
        operation_id="sars_list",
    )
    def get(self, request):
        _need(request.user, "accounts.view_subjectaccessrequest", "read subject access requests")
        customer = request.query_params.get("customer", "")
        if not customer.isdigit():
            raise validation_problem({"customer": ["Give the customer's id, e.g. ?customer=42."]})
        rows = (
            SAR.objects.filter(customer_id=int(customer))
            .select_related("bundle")
            .order_by("-received_at", "-pk")[:50]
        )
        return Response(SarSerializer(rows, many=True).data)

    @extend_schema(
        request=SarCreateSerializer,
        responses={201: SarSerializer, 200: SarSerializer, **ERRORS},
        operation_id="sars_create",
    )
    def post(self, request):
        _need(request.user, "accounts.add_subjectaccessrequest", "log subject access requests")
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        fields = SarCreateSerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        data = fields.validated_data
        customer = Customer.objects.filter(pk=data["customer"], anonymised_at__isnull=True).first()
        if customer is None:
            raise validation_problem({"customer": [f"No customer has id {data['customer']}."]})
        try:
            opened = sar_open(
                customer=customer,
                channel=data["channel"],
                received_at=data.get("received_at"),
                details=data.get("details", ""),
                actor=request.user,
            )
        except SarRuleError as exc:
            raise validation_problem({"non_field_errors": [str(exc)]}) from None
        sar = opened.request
        path = reverse("api:sar-detail", kwargs={"sar_reference": sar.reference})
        # 200, not 201: one was already open, and this request is noted on it.
        return Response(
            SarSerializer(sar).data,
            status=status.HTTP_201_CREATED if opened.created else status.HTTP_200_OK,
            headers={"Location": request.build_absolute_uri(path)},
        )


@extend_schema(tags=["subject access requests"])
class SarDetail(ApiView):
    """One subject access request and its clock."""

    @extend_schema(responses={200: SarSerializer, **ERRORS}, operation_id="sars_read")
    def get(self, request, sar_reference: str):
        return Response(SarSerializer(_sar(request, sar_reference)).data)


class _SarAction(ApiView):
    body: type[serializers.Serializer] | None = None

    def post(self, request, sar_reference: str):
        sar = _sar(request, sar_reference)
        _need(
            request.user, "accounts.change_subjectaccessrequest", "answer subject access requests"
        )
        data = {}
        if self.body is not None:
            fields = self.body(data=request.data)
            fields.is_valid(raise_exception=True)
            data = fields.validated_data
        try:
            sar = self.act(sar, request.user, data)
        except SarRuleError as exc:
            raise _rule_problem(exc) from None
        sar = SAR.objects.select_related("bundle").get(pk=sar.pk)
        return Response(SarSerializer(sar).data)


@extend_schema(tags=["subject access requests"])
class SarExtend(_SarAction):
    """Extend once by one or two months, within the first month; the customer is told why."""

    body = SarExtendSerializer

    @extend_schema(
        request=SarExtendSerializer,
        responses={200: SarSerializer, **ERRORS},
        operation_id="sars_extend",
    )
    def post(self, request, sar_reference: str):
        return super().post(request, sar_reference)

    def act(self, sar, actor, data):
        return sar_extend(sar=sar, months=int(data["months"]), reason=data["reason"], actor=actor)


@extend_schema(tags=["subject access requests"])
class SarPrepare(_SarAction):
    """Start building the response (a ZIP of everything held) in the background."""

    @extend_schema(
        request=None, responses={200: SarSerializer, **ERRORS}, operation_id="sars_prepare"
    )
    def post(self, request, sar_reference: str):
        return super().post(request, sar_reference)

    def act(self, sar, actor, data):
        sar_response_prepare(sar=sar, actor=actor)
        return sar


@extend_schema(tags=["subject access requests"])
class SarSend(_SarAction):
    """Send the prepared response: the customer is told and can download it on the portal."""

    @extend_schema(request=None, responses={200: SarSerializer, **ERRORS}, operation_id="sars_send")
    def post(self, request, sar_reference: str):
        return super().post(request, sar_reference)

    def act(self, sar, actor, data):
        return sar_fulfil(sar=sar, actor=actor)


@extend_schema(tags=["subject access requests"])
class SarRefuse(_SarAction):
    """Refuse with the reason the customer is given."""

    body = SarRefuseSerializer

    @extend_schema(
        request=SarRefuseSerializer,
        responses={200: SarSerializer, **ERRORS},
        operation_id="sars_refuse",
    )
    def post(self, request, sar_reference: str):
        return super().post(request, sar_reference)

    def act(self, sar, actor, data):
        return sar_refuse(sar=sar, reason=data["reason"], actor=actor)


SAR_ACTION_VIEWS = {
    "extend": SarExtend,
    "prepare": SarPrepare,
    "send": SarSend,
    "refuse": SarRefuse,
}
