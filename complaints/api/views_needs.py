"""A customer's recorded needs through the API (issue 15 items 1 and 3; Ofcom GC C5).

The same rules as the portal and the desk (accounts.needs): an integration records what
the customer told a person (by phone, letter, email or in person) and says how they
agreed. Needs are special-category data: they are only on this route, only for a key
whose staff role may read them, never in the customer's own record, webhooks or history.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.models import CommunicationFormat, Customer, CustomerNeeds, NeedKind
from accounts.needs import STAFF_CONSENT, needs_badge, needs_record, needs_withdraw
from complaints.api.problems import Problem, validation_problem
from complaints.api.views import ERRORS, ApiView, _need, _not_found


class NeedsSerializer(serializers.ModelSerializer):
    """What is recorded, who recorded it and when, and the agreements it carries."""

    need_labels = serializers.SerializerMethodField()
    badge = serializers.SerializerMethodField()
    named_contact = serializers.SerializerMethodField()
    recorded_by = serializers.SerializerMethodField()
    recorded_by_customer = serializers.SerializerMethodField()

    class Meta:
        model = CustomerNeeds
        fields = [
            "kinds",
            "need_labels",
            "badge",
            "details",
            "call_times",
            "communication_format",
            "update_interval_working_days",
            "named_contact",
            "consent_given_at",
            "consent_how",
            "recorded_by",
            "recorded_by_customer",
            "recorded_at",
            "updated_at",
            "review_on",
        ]

    def get_need_labels(self, obj) -> list[str]:
        return obj.kind_labels()

    def get_badge(self, obj) -> str:
        return needs_badge(obj)

    def get_named_contact(self, obj) -> str | None:
        return obj.named_contact.email if obj.named_contact_id else None

    def get_recorded_by(self, obj) -> str | None:
        return str(obj.recorded_by) if obj.recorded_by_id else None

    def get_recorded_by_customer(self, obj) -> bool:
        return obj.consent_how == "portal"


class NeedsWriteSerializer(serializers.Serializer):
    """The needs to record, and how the customer agreed (required: Ofcom GC C5)."""

    kinds = serializers.ListField(child=serializers.ChoiceField(NeedKind.choices))
    details = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    call_times = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    communication_format = serializers.ChoiceField(
        CommunicationFormat.choices, required=False, default=CommunicationFormat.STANDARD
    )
    update_interval_working_days = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=100
    )
    named_contact = serializers.EmailField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Email address of an active member of staff, or null for none.",
    )
    review_on = serializers.DateField(required=False, allow_null=True, default=None)
    consent_how = serializers.ChoiceField([(c, c) for c in STAFF_CONSENT])


@extend_schema(tags=["customers"])
class CustomerNeedsView(ApiView):
    """One customer's recorded needs: read, record or correct, withdraw."""

    def _customer(self, pk: int) -> Customer:
        customer = Customer.objects.filter(pk=pk, anonymised_at__isnull=True).first()
        if customer is None:
            raise _not_found(f"Customer {pk}")
        return customer

    def _held(self, customer: Customer) -> CustomerNeeds:
        needs = (
            CustomerNeeds.objects.filter(customer=customer)
            .select_related("named_contact", "recorded_by")
            .first()
        )
        if needs is None:
            raise Problem(
                404,
                "no-needs",
                "No needs recorded",
                f"No needs are recorded for customer {customer.pk}, or consent was withdrawn.",
            )
        return needs

    @extend_schema(responses={200: NeedsSerializer, **ERRORS}, operation_id="customer_needs_read")
    def get(self, request, pk: int):
        _need(request.user, "accounts.view_customerneeds", "read customers' needs")
        return Response(NeedsSerializer(self._held(self._customer(pk))).data)

    @extend_schema(
        request=NeedsWriteSerializer,
        responses={200: NeedsSerializer, 201: NeedsSerializer, **ERRORS},
        operation_id="customer_needs_set",
    )
    def put(self, request, pk: int):
        _need(request.user, "accounts.change_customerneeds", "record customers' needs")
        customer = self._customer(pk)
        fields = NeedsWriteSerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        data = dict(fields.validated_data)
        email = data.pop("named_contact")
        contact = None
        if email:
            contact = get_user_model().objects.filter(email__iexact=email).first()
            if contact is None:
                raise validation_problem(
                    {"named_contact": [f"No member of staff has the address {email}."]}
                )
        existed = CustomerNeeds.objects.filter(customer=customer).exists()
        needs_record(customer=customer, actor=request.user, named_contact=contact, **data)
        return Response(
            NeedsSerializer(self._held(customer)).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    @extend_schema(responses={204: None, **ERRORS}, operation_id="customer_needs_withdraw")
    def delete(self, request, pk: int):
        _need(request.user, "accounts.delete_customerneeds", "withdraw customers' needs")
        customer = self._customer(pk)
        self._held(customer)
        needs_withdraw(customer=customer, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
