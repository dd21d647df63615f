"""Representatives through the API (issue 15 item 4; Ofcom GC C5).

The same rules as the desk (accounts.representatives): an integration records someone
acting for the customer, the authority seen (optionally the file, base64, checked like
every upload) and what they may do; and withdraws it with a reason. Each write is in the
history of the complaints it covers, under the integration's name.
"""

from __future__ import annotations

import base64
import binascii

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.models import ContactMethod, Customer, Representative, RepresentativeRelationship
from accounts.representatives import (
    authority_state,
    representative_record,
    representative_withdraw,
)
from complaints.api.problems import validation_problem
from complaints.api.views import ERRORS, ApiView, _need, _not_found
from complaints.models import Complaint


class RepresentativeSerializer(serializers.ModelSerializer):
    """Who acts for the customer, the authority seen, what they may do, and its state."""

    state = serializers.SerializerMethodField()
    complaints = serializers.SerializerMethodField()
    portal_login = serializers.SerializerMethodField()
    has_authority_document = serializers.SerializerMethodField()
    recorded_by = serializers.SerializerMethodField()
    withdrawn_by = serializers.SerializerMethodField()

    class Meta:
        model = Representative
        fields = [
            "id",
            "name",
            "relationship",
            "organisation",
            "email",
            "phone",
            "postal_address",
            "contact_method",
            "portal_login",
            "authority_seen",
            "has_authority_document",
            "receive_letters",
            "act_on_case",
            "copy_customer",
            "all_complaints",
            "complaints",
            "starts_at",
            "ends_at",
            "state",
            "recorded_by",
            "recorded_at",
            "withdrawn_at",
            "withdrawn_by",
            "withdrawal_reason",
        ]

    def get_state(self, obj) -> str:
        return authority_state(obj)

    def get_complaints(self, obj) -> list[str]:
        return [] if obj.all_complaints else [c.reference for c in obj.complaints.all()]

    def get_portal_login(self, obj) -> str | None:
        return obj.user.email if obj.user_id else None

    def get_has_authority_document(self, obj) -> bool:
        return bool(obj.authority_document)

    def get_recorded_by(self, obj) -> str | None:
        return str(obj.recorded_by) if obj.recorded_by_id else None

    def get_withdrawn_by(self, obj) -> str | None:
        return str(obj.withdrawn_by) if obj.withdrawn_by_id else None


class RepresentativeWriteSerializer(serializers.Serializer):
    """A representative to record; the authority seen is required."""

    name = serializers.CharField(max_length=200)
    relationship = serializers.ChoiceField(RepresentativeRelationship.choices)
    organisation = serializers.CharField(max_length=200, required=False, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    postal_address = serializers.CharField(required=False, allow_blank=True, default="")
    contact_method = serializers.ChoiceField(
        ContactMethod.choices, required=False, default=ContactMethod.EMAIL
    )
    portal_login = serializers.EmailField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The email address of their own portal account, if any.",
    )
    authority_seen = serializers.CharField(max_length=200)
    authority_document = serializers.CharField(
        required=False, allow_null=True, default=None, help_text="The file, base64."
    )
    authority_document_name = serializers.CharField(
        max_length=200, required=False, default="authority"
    )
    receive_letters = serializers.BooleanField(required=False, default=True)
    act_on_case = serializers.BooleanField(required=False, default=True)
    copy_customer = serializers.BooleanField(required=False, default=True)
    complaints = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text="Complaint references; empty for all the customer's complaints.",
    )
    starts_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    ends_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


def _customer(pk: int) -> Customer:
    customer = Customer.objects.filter(pk=pk, anonymised_at__isnull=True).first()
    if customer is None:
        raise _not_found(f"Customer {pk}")
    return customer


def _listed(customer):
    return (
        Representative.objects.filter(customer=customer)
        .select_related("user", "recorded_by", "withdrawn_by")
        .prefetch_related("complaints")
        .order_by("-recorded_at", "-pk")
    )


@extend_schema(tags=["customers"])
class CustomerRepresentativesView(ApiView):
    """Someone acting for the customer: list every authority (in force or not), record one."""

    @extend_schema(
        responses={200: RepresentativeSerializer(many=True), **ERRORS},
        operation_id="customer_representatives_list",
    )
    def get(self, request, pk: int):
        _need(request.user, "accounts.view_representative", "read customers' representatives")
        reps = _listed(_customer(pk))
        return Response(RepresentativeSerializer(reps, many=True).data)

    @extend_schema(
        request=RepresentativeWriteSerializer,
        responses={201: RepresentativeSerializer, **ERRORS},
        operation_id="customer_representatives_record",
    )
    def post(self, request, pk: int):
        _need(request.user, "accounts.add_representative", "record representatives")
        customer = _customer(pk)
        fields = RepresentativeWriteSerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        data = dict(fields.validated_data)
        login = data.pop("portal_login")
        user = None
        if login:
            user = get_user_model().objects.filter(email__iexact=login, is_staff=False).first()
            if user is None:
                raise validation_problem(
                    {"portal_login": [f"No portal account has the address {login}."]}
                )
        references = data.pop("complaints")
        complaints = list(Complaint.objects.filter(customer=customer, reference__in=references))
        if len(complaints) != len(set(references)):
            raise validation_problem(
                {"complaints": ["Only this customer's complaints can be named."]}
            )
        raw, name = data.pop("authority_document"), data.pop("authority_document_name")
        document = None
        if raw:
            try:
                document = ContentFile(base64.b64decode(raw, validate=True), name=name)
            except (binascii.Error, ValueError):
                raise validation_problem(
                    {"authority_document": ["Send the file as base64."]}
                ) from None
        rep = representative_record(
            customer=customer,
            actor=request.user,
            user=user,
            document=document,
            complaints=complaints,
            all_complaints=not complaints,
            **data,
        )
        rep = _listed(customer).get(pk=rep.pk)
        return Response(RepresentativeSerializer(rep).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["customers"])
class RepresentativeWithdrawView(ApiView):
    """Withdraw an authority at once, with the reason."""

    @extend_schema(
        request=WithdrawSerializer,
        responses={200: RepresentativeSerializer, **ERRORS},
        operation_id="customer_representative_withdraw",
    )
    def post(self, request, pk: int, rep_id: int):
        _need(request.user, "accounts.change_representative", "withdraw representatives")
        customer = _customer(pk)
        rep = Representative.objects.filter(pk=rep_id, customer=customer).first()
        if rep is None:
            raise _not_found(f"Representative {rep_id}")
        fields = WithdrawSerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        representative_withdraw(rep=rep, actor=request.user, reason=fields.validated_data["reason"])
        return Response(RepresentativeSerializer(_listed(customer).get(pk=rep.pk)).data)
