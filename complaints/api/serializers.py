"""What the API returns. Read-only shapes; every write goes through a desk form and service."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from accounts.models import ContactMethod, Customer, CustomerType
from complaints.clocks import complaint_clocks_explained
from complaints.models import Attachment, Complaint
from complaints.selectors import complaint_timeline


def complaint_url(request, complaint) -> str:
    path = reverse("api:complaint-detail", kwargs={"reference": complaint.reference})
    return request.build_absolute_uri(path) if request else path


class PersonSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.EmailField()


class CustomerBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "account_reference"]


class ComplaintSerializer(serializers.ModelSerializer):
    """One complaint in a list: who, what, where it is and when it is next due."""

    url = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display")
    customer = CustomerBriefSerializer()
    assignee = serializers.SerializerMethodField()
    formal_reference = serializers.SerializerMethodField()
    customer_to_match = serializers.CharField(
        help_text="Why staff must check which customer this complaint belongs to; empty if not."
    )

    class Meta:
        model = Complaint
        fields = [
            "reference",
            "url",
            "status",
            "status_label",
            "channel",
            "department",
            "subject",
            "customer",
            "stated_account_reference",
            "customer_to_match",
            "assignee",
            "formal_reference",
            "first_made_at",
            "logged_at",
            "response_due_at",
            "resolution_target_at",
            "next_due_at",
            "next_due_kind",
            "closed_at",
            "version",
            "updated_at",
        ]

    def get_url(self, complaint) -> str:
        return complaint_url(self.context.get("request"), complaint)

    def get_assignee(self, complaint) -> dict | None:
        person = complaint.assignee
        return {"name": person.name, "email": person.email} if person else None

    def get_formal_reference(self, complaint) -> str | None:
        case = getattr(complaint, "formal_case", None) if complaint.formal_at else None
        return case.register_reference if case else None


class ClockSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="The rule of deadlines.md, e.g. response_due.")
    due_at = serializers.DateTimeField(allow_null=True)
    passed = serializers.BooleanField(help_text="Whether the moment has passed.")
    explanation = serializers.CharField(help_text="How it was worked out, in plain English.")


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    who = serializers.CharField()
    title = serializers.CharField()
    text = serializers.CharField()
    customer_visible = serializers.BooleanField()
    attachment_id = serializers.IntegerField(allow_null=True)


class ComplaintDetailSerializer(ComplaintSerializer):
    """One complaint in full: its description, every clock explained, and its timeline."""

    description = serializers.CharField()
    agreed_contact_method = serializers.CharField()
    policy_key = serializers.CharField()
    clocks = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    deadlines = serializers.SerializerMethodField()
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    product = serializers.SlugRelatedField(slug_field="code", read_only=True)
    root_cause = serializers.SlugRelatedField(slug_field="code", read_only=True)
    company_at_fault = serializers.BooleanField(allow_null=True, read_only=True)

    class Meta(ComplaintSerializer.Meta):
        fields = [
            *ComplaintSerializer.Meta.fields,
            "description",
            "agreed_contact_method",
            "policy_key",
            "acknowledged_at",
            "first_responded_at",
            "responded_at",
            "resolution_awaiting_action",
            "resolved_at",
            "formal_at",
            "deadlock_letter_received_at",
            "adr_letter_sent_at",
            "closure_reason",
            "category",
            "product",
            "root_cause",
            "company_at_fault",
            "root_cause_recorded_at",
            "deadlines",
            "clocks",
            "timeline",
        ]

    def get_deadlines(self, complaint) -> dict:
        """Every stored deadline by name, ISO 8601 (null where the clock is not running)."""
        return {
            "response_due_at": complaint.response_due_at,
            "resolution_target_at": complaint.resolution_target_at,
            "progress_update_due_at": complaint.progress_update_due_at,
            "auto_close_at": complaint.auto_close_at,
            "adr_eligible_at": complaint.adr_eligible_at,
            "osc_deadline_at": complaint.osc_deadline_at,
            "osc_warning_at": complaint.osc_warning_at,
        }

    def get_clocks(self, complaint) -> list[dict]:
        now = timezone.now()
        return ClockSerializer(
            [
                {
                    "rule": c.rule,
                    "due_at": c.due_at,
                    "passed": bool(c.due_at and c.due_at <= now),
                    "explanation": c.explanation,
                }
                for c in complaint_clocks_explained(complaint)
            ],
            many=True,
        ).data

    def get_timeline(self, complaint) -> list[dict]:
        return TimelineEntrySerializer(complaint_timeline(complaint), many=True).data


class AttachmentSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "kind",
            "kind_label",
            "original_name",
            "content_type",
            "size",
            "customer_visible",
            "at",
            "download_url",
        ]

    def get_download_url(self, attachment) -> str:
        path = reverse("api:attachment-download", kwargs={"pk": attachment.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "account_reference",
            "email",
            "phone",
            "postal_address",
            "preferred_contact_method",
            "customer_type",
            "employee_count",
            "contract_reference",
            "contracted_response_working_days",
            "email_confirmed_at",
            "created_at",
        ]
        read_only_fields = ["id", "email_confirmed_at", "created_at"]


class CustomerWriteSerializer(serializers.Serializer):
    """Contact details and preferences a CRM may set; checked again by the model's rules."""

    name = serializers.CharField(max_length=200, required=False)
    account_reference = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    postal_address = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    preferred_contact_method = serializers.ChoiceField(ContactMethod.choices, required=False)
    customer_type = serializers.ChoiceField(CustomerType.choices, required=False)
    employee_count = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    contract_reference = serializers.CharField(max_length=60, required=False, allow_blank=True)
    contracted_response_working_days = serializers.IntegerField(
        min_value=1, max_value=30, required=False, allow_null=True
    )
