"""The API's views: each reads through the selectors and writes through one desk service.

Access is the desk's: the key's integration acts as its staff user, so department scoping
(complaints_visible_to), role permissions and the formal-case rule (COP-15) apply exactly as
to a person. A complaint the caller may not see is a 404, never a 403, so references cannot
be probed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from io import BytesIO

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiScope, Customer
from accounts.services import customer_create, customer_details_change
from complaints.api import forms as api_forms
from complaints.api.idempotency import idempotent
from complaints.api.problems import Problem, lifecycle_conflict, validation_problem
from complaints.api.serializers import (
    AttachmentSerializer,
    ComplaintDetailSerializer,
    ComplaintSerializer,
    CustomerSerializer,
    CustomerWriteSerializer,
    complaint_url,
)
from complaints.desk_actions import ACTIONS, desk_action_run, logger_actions
from complaints.domain.lifecycle import Status
from complaints.models import (
    Attachment,
    Category,
    Channel,
    Complaint,
    Department,
    Product,
    RootCause,
)
from complaints.selectors import (
    complaints_due_by,
    complaints_overdue,
    complaints_root_cause_missing,
    complaints_visible_to,
)
from complaints.services.channels import (
    complaint_log_call,
    complaint_log_letter,
    customer_find_or_create,
)
from complaints.services.intake import complaint_log
from complaints.services.notices import letter_large_print_copy

STATUSES = [s.value for s in Status]

PROBLEM = inline_serializer(
    "Problem",
    {
        "type": serializers.CharField(),
        "title": serializers.CharField(),
        "status": serializers.IntegerField(),
        "detail": serializers.CharField(),
    },
)
ERRORS = {code: PROBLEM for code in (400, 401, 403, 404, 409, 412, 422, 428, 429)}


def _not_found(what: str) -> Problem:
    return Problem(
        404, "not-found", "Not found", f"{what} was not found, or this key may not see it."
    )


def _need(user, permission: str, doing: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied(f"The role of this key's integration may not {doing}.")


def etag(complaint: Complaint) -> str:
    return f'"{complaint.version}"'


def if_match_version(request) -> int | None:
    """The case version the caller last read, from ``If-Match`` (an ETag of ours), or None."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    value = header.removeprefix("W/").strip().strip('"')
    if not value.isdigit():
        raise Problem(
            400,
            "if-match",
            "If-Match not usable",
            f'If-Match must be the ETag the complaint was read with, like "3"; got {header!r}.',
        )
    return int(value)


def complaints_for(user):
    return complaints_visible_to(user).select_related(
        "customer", "assignee", "formal_case", "category", "product", "root_cause"
    )


def complaint_for(request, reference: str) -> Complaint:
    """The complaint `reference` names, if the key's integration may see it."""
    _need(request.user, "complaints.view_complaint", "read complaints")
    try:
        return complaints_for(request.user).get(reference=reference.strip().upper())
    except Complaint.DoesNotExist:
        raise _not_found(f"Complaint {reference}") from None


def _detail(request, complaint: Complaint, *, code: int = 200, headers=None) -> Response:
    complaint = complaints_for(request.user).filter(pk=complaint.pk).first() or complaint
    body = ComplaintDetailSerializer(complaint, context={"request": request}).data
    return Response(body, status=code, headers={"ETag": etag(complaint), **(headers or {})})


class ApiView(APIView):
    """Every view of the API: JSON in and out, problem details on error."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in ("POST", "PUT", "PATCH") and not isinstance(request.data, Mapping):
            raise validation_problem(
                {
                    "non_field_errors": [
                        'Send the fields as one JSON object, like {"reason": "..."}.'
                    ]
                }
            )


class ComplaintPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _reference_q(reference: str) -> Q:
    """An account reference as typed or in capitals, by the index (iexact cannot use it)."""
    return Q(account_reference__in={reference, reference.upper()})


def _datetime_param(request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    value = parse_datetime(raw.replace(" ", "+"))
    if value is None or timezone.is_naive(value):
        raise validation_problem(
            {
                name: [
                    "Give an ISO 8601 time with its offset, like 2026-12-24T17:00:00Z; "
                    f"got {raw!r}."
                ]
            }
        )
    return value


def _choices_param(request, name: str, choices) -> list[str]:
    raw = request.query_params.get(name, "")
    values = [v.strip() for v in raw.split(",") if v.strip()]
    bad = [v for v in values if v not in choices]
    if bad:
        raise validation_problem({name: [f"Unknown {name} {bad[0]!r}: use {', '.join(choices)}."]})
    return values


LIST_FILTERS = [
    OpenApiParameter("status", str, description="Comma-separated statuses: " + ", ".join(STATUSES)),
    OpenApiParameter("department", str, description=", ".join(Department.values)),
    OpenApiParameter("channel", str, description=", ".join(Channel.values)),
    OpenApiParameter("account_reference", str, description="The customer's account reference."),
    OpenApiParameter(
        "overdue", bool, description="Only complaints whose next deadline has passed."
    ),
    OpenApiParameter(
        "due_before", OpenApiTypes.DATETIME, description="Next deadline at or before."
    ),
    OpenApiParameter("updated_since", OpenApiTypes.DATETIME, description="Changed at or after."),
    OpenApiParameter("category", str, description="Comma-separated category codes."),
    OpenApiParameter("product", str, description="Comma-separated product codes."),
    OpenApiParameter(
        "root_cause",
        str,
        description="Comma-separated root cause codes, or 'missing' for closed complaints "
        "with none recorded (the desk's Root cause missing queue).",
    ),
]


def _code_filters(request, complaints):
    """The category, product and root cause filters, by code (issue 16)."""
    for name, model in (("category", Category), ("product", Product), ("root_cause", RootCause)):
        raw = request.query_params.get(name, "")
        codes = [v.strip() for v in raw.split(",") if v.strip()]
        if not codes:
            continue
        if name == "root_cause" and codes == ["missing"]:
            complaints = complaints_root_cause_missing(complaints)
            continue
        known = set(model.objects.filter(code__in=codes).values_list("code", flat=True))
        if bad := [c for c in codes if c not in known]:
            raise validation_problem({name: [f"Unknown {name.replace('_', ' ')} {bad[0]!r}."]})
        complaints = complaints.filter(**{f"{name}__code__in": codes})
    return complaints


@extend_schema(tags=["complaints"])
class ComplaintList(ApiView):
    """Complaints this key may see, newest first, with the desk's filters."""

    @extend_schema(
        parameters=LIST_FILTERS,
        responses={200: ComplaintSerializer(many=True), **ERRORS},
        operation_id="complaints_list",
    )
    def get(self, request):
        _need(request.user, "complaints.view_complaint", "read complaints")
        complaints = complaints_for(request.user)
        if statuses := _choices_param(request, "status", STATUSES):
            complaints = complaints.filter(status__in=statuses)
        if departments := _choices_param(request, "department", Department.values):
            complaints = complaints.filter(department__in=departments)
        if channels := _choices_param(request, "channel", Channel.values):
            complaints = complaints.filter(channel__in=channels)
        if reference := request.query_params.get("account_reference", "").strip():
            customers = Customer.objects.filter(_reference_q(reference))
            complaints = complaints.filter(customer_id__in=customers.values("pk"))
        overdue = request.query_params.get("overdue", "").lower()
        if overdue in ("true", "1", "yes"):
            complaints = complaints_overdue(complaints, now=timezone.now())
        elif overdue not in ("", "false", "0", "no"):
            raise validation_problem({"overdue": ["Give overdue=true or overdue=false."]})
        if (due_before := _datetime_param(request, "due_before")) is not None:
            complaints = complaints_due_by(complaints, due_before)
        if (updated_since := _datetime_param(request, "updated_since")) is not None:
            complaints = complaints.filter(updated_at__gte=updated_since)
        complaints = _code_filters(request, complaints)
        paginator = ComplaintPagination()
        page = paginator.paginate_queryset(complaints, request, view=self)
        body = ComplaintSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(body)

    @extend_schema(
        request={
            "application/json": api_forms.CREATE_SCHEMA,
            "multipart/form-data": api_forms.CREATE_SCHEMA,
        },
        responses={201: ComplaintSerializer, **ERRORS},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Send the same key again to get the first answer, "
                "not a second complaint.",
            )
        ],
        operation_id="complaints_create",
    )
    def post(self, request):
        _need(request.user, "complaints.add_complaint", "log complaints")
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        channel = request.data.get("channel")
        form_class = api_forms.CREATE_FORMS.get(channel) if isinstance(channel, str) else None
        if form_class is None:
            raise validation_problem(
                {"channel": [f"Choose a channel: {', '.join(api_forms.CREATE_FORMS)}."]}
            )
        data = api_forms.form_clean(form_class, request.data, request.FILES)
        user = request.user
        with transaction.atomic():
            customer = customer_find_or_create(
                account_reference=data["account_reference"],
                name=data["name"],
                email=data["email"],
                phone=data["phone"],
                postal_address=data["postal_address"],
            )
            common = dict(
                customer=customer,
                department=data["department"],
                subject=data["subject"],
                description=data["description"],
            )
            if channel == Channel.PHONE:
                complaint = complaint_log_call(
                    actor=user,
                    **common,
                    called_at=data["called_at"],
                    resolved=data["resolved"],
                    what_was_done=data["what_was_done"],
                    promised_at=data["promised_at"],
                    contact_method=data["contact_method"],
                )
            elif channel == Channel.LETTER:
                complaint = complaint_log_letter(
                    actor=user,
                    **common,
                    received_at=data["received_at"],
                    scan=data["scan"],
                    no_contact_given=data["no_contact_given"],
                )
            else:
                complaint = complaint_log(
                    actor=user,
                    channel=channel,
                    **common,
                    first_made_at=data["first_made_at"],
                    agreed_contact_method=data["agreed_contact_method"] or None,
                    reason=f"Complaint made by {Channel(channel).label.lower()}, "
                    "logged through the API.",
                )
        complaint = Complaint.objects.select_related("customer", "assignee").get(pk=complaint.pk)
        body = ComplaintSerializer(complaint, context={"request": request}).data
        body["visible_to_you"] = complaints_visible_to(user).filter(pk=complaint.pk).exists()
        return Response(
            body,
            status=status.HTTP_201_CREATED,
            headers={"Location": complaint_url(request, complaint), "ETag": etag(complaint)},
        )


@extend_schema(tags=["complaints"])
class ComplaintDetail(ApiView):
    """One complaint: every clock with its rule and working, and its timeline."""

    @extend_schema(
        responses={200: ComplaintDetailSerializer, **ERRORS}, operation_id="complaints_read"
    )
    def get(self, request, reference: str):
        complaint = complaint_for(request, reference)
        return _detail(request, complaint)


class ComplaintAction(ApiView):
    """One of the desk's actions on a case, run through the desk's own form and service."""

    action_name = ""

    def post(self, request, reference: str):
        action = ACTIONS[self.action_name]
        user = request.user
        complaint = self._complaint(request, reference, action)
        if not user.has_perm(action.permission):
            raise PermissionDenied(
                f"The role of this key's integration may not {action.label.lower()}."
            )
        if not action.available(complaint):
            raise lifecycle_conflict(
                complaint,
                f"{action.label} is not open to {complaint.reference}, which is "
                f"'{complaint.get_status_display()}'.",
            )
        if complaint.status == Status.FORMAL and not action.additive:
            if ApiScope.FORMAL not in request.auth.scopes or not user.has_perm(
                "complaints.review_formal"
            ):
                raise PermissionDenied(
                    f"{complaint.reference} is a formal complaint: a senior manager owns it "
                    "(COP-15). Only a key with the formal scope and a senior manager's role may "
                    f"{action.label.lower()}."
                )
        payload = request.data
        if action.name == "assign":
            payload = _assignee_by_email(payload)
        version = if_match_version(request)
        versioned = "version" in action.form.base_fields
        if versioned and version is None:
            raise Problem(
                428,
                "if-match-required",
                "If-Match required",
                "Send If-Match with the ETag of the complaint as you last read it, so that you "
                "never overwrite a change you have not seen.",
            )
        data = api_forms.form_clean(action.form, payload, request.FILES, exclude=("version",))
        data["version"] = version
        desk_action_run(action, complaint=complaint, user=user, data=data)
        complaint.refresh_from_db()
        if not complaints_visible_to(user).filter(pk=complaint.pk).exists():
            # Logged for another department: what was added is saved; the case is not ours.
            return Response(
                {"reference": complaint.reference, "done": action.done, "visible_to_you": False},
                headers={"ETag": etag(complaint)},
            )
        return _detail(request, complaint)

    def _complaint(self, request, reference: str, action) -> Complaint:
        try:
            return complaint_for(request, reference)
        except Problem:
            # Whoever logged a case for another department may still add to it for a while.
            logged = Complaint.objects.filter(
                reference=reference.strip().upper(), logged_by=request.user
            ).first()
            if logged and action in logger_actions(logged, request.user):
                return logged
            raise


def _assignee_by_email(payload) -> dict:
    payload = dict(payload.items()) if hasattr(payload, "items") else {}
    email = payload.get("assignee")
    if email in (None, ""):
        payload["assignee"] = ""
        return payload
    if not isinstance(email, str):
        raise validation_problem(
            {"assignee": ["Give the email address of a member of staff, or null."]}
        )
    person = (
        get_user_model()
        .objects.filter(email__iexact=email.strip(), is_staff=True, is_active=True)
        .first()
    )
    if person is None:
        raise validation_problem(
            {"assignee": [f"No active member of staff has the email {email!r}."]}
        )
    payload["assignee"] = person.pk
    return payload


# One view per action, so each has its own path and request body in the schema.
ACTION_PATHS = {
    "assign": "assign",
    "acknowledge": "acknowledge",
    "match": "match-customer",
    "note": "notes",
    "progress": "progress-update",
    "await": "await-third-party",
    "third_party": "third-party-correspondence",
    "attach": "attachments/add",
    "respond": "response",
    "resolution": "resolution-actioned",
    "contact": "customer-contact",
    "escalate": "escalate",
    "reopen": "reopen",
    "first_made": "first-made",
    "categorise": "category",
    "root_cause": "root-cause",
    "close": "close",
    "remedy": "remedies/add",
    "void_remedy": "remedies/void",
}


def _action_view(name: str) -> type[ComplaintAction]:
    action = ACTIONS[name]
    versioned = "version" in action.form.base_fields
    request_body = api_forms.form_serializer(
        action.form, f"{''.join(p.title() for p in name.split('_'))}Request", ("version",)
    )
    headers = [
        OpenApiParameter(
            "If-Match",
            str,
            OpenApiParameter.HEADER,
            required=versioned,
            description="The ETag of the complaint as you last read it; 412 if it changed since.",
        )
    ]
    content = (
        "multipart/form-data"
        if any(f.widget.needs_multipart_form for f in action.form.base_fields.values())
        else "application/json"
    )

    def post(self, request, reference: str):
        return ComplaintAction.post(self, request, reference)

    post = extend_schema(
        summary=action.label,
        request={content: request_body},
        parameters=headers,
        responses={200: ComplaintDetailSerializer, **ERRORS},
        operation_id=f"complaints_{name}",
        tags=["complaint actions"],
    )(post)
    return type(
        f"{request_body.__name__[:-7]}Action",
        (ComplaintAction,),
        {"action_name": name, "post": post, "__doc__": f"{action.label}: {action.done}"},
    )


ACTION_VIEWS = {name: _action_view(name) for name in ACTION_PATHS}


@extend_schema(tags=["letters and attachments"])
class ComplaintAttachments(ApiView):
    """The files on a complaint: scans, reports, the customer's files and the letters we sent."""

    letters_only = False

    @extend_schema(responses={200: AttachmentSerializer(many=True), **ERRORS})
    def get(self, request, reference: str):
        complaint = complaint_for(request, reference)
        _need(request.user, "complaints.view_attachment", "read attachments")
        files = complaint.attachments.order_by("at", "pk")
        if self.letters_only:
            files = files.filter(kind=Attachment.Kind.LETTER_SENT)
        return Response(AttachmentSerializer(files, many=True, context={"request": request}).data)


class ComplaintLetters(ComplaintAttachments):
    """The letters we sent on a complaint (acknowledgement, response, deadlock, ADR, …)."""

    letters_only = True


@extend_schema(tags=["letters and attachments"])
class AttachmentDownload(ApiView):
    """Download one file, if its complaint is one this key may see."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "print",
                str,
                enum=["large"],
                description="large: a large-print copy of a letter we sent (16pt and up), "
                "for a customer who needs one. 404 for other files.",
            )
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request, pk: int):
        _need(request.user, "complaints.view_attachment", "read attachments")
        visible = complaints_visible_to(request.user)
        attachment = Attachment.objects.filter(pk=pk, complaint__in=visible).first()
        if attachment is None:
            raise _not_found(f"File {pk}")
        if request.query_params.get("print") == "large":
            copy = letter_large_print_copy(attachment)
            if copy is None:
                raise _not_found(f"A large-print copy of file {pk}")
            name, pdf = copy
            return FileResponse(
                BytesIO(pdf), as_attachment=True, filename=name, content_type="application/pdf"
            )
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError:
            raise Problem(
                410, "gone", "No longer held", "This file was removed under the retention policy."
            ) from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )


@extend_schema(tags=["customers"])
class CustomerList(ApiView):
    """Find customers by account reference or email; record a new customer."""

    @extend_schema(
        parameters=[
            OpenApiParameter("account_reference", str),
            OpenApiParameter("email", str),
        ],
        responses={200: CustomerSerializer(many=True), **ERRORS},
        operation_id="customers_find",
    )
    def get(self, request):
        _need(request.user, "accounts.view_customer", "read customers")
        reference = request.query_params.get("account_reference", "").strip()
        email = request.query_params.get("email", "").strip()
        if not reference and not email:
            raise validation_problem(
                {"non_field_errors": ["Give account_reference or email to find a customer."]}
            )
        customers = Customer.objects.filter(anonymised_at__isnull=True)
        if reference:
            customers = customers.filter(_reference_q(reference))
        if email:
            customers = customers.filter(email__iexact=email)
        return Response(CustomerSerializer(customers.order_by("pk")[:20], many=True).data)

    @extend_schema(
        request=CustomerWriteSerializer,
        responses={201: CustomerSerializer, **ERRORS},
        operation_id="customers_create",
    )
    def post(self, request):
        _need(request.user, "accounts.add_customer", "record customers")
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        fields = CustomerWriteSerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        if not fields.validated_data.get("name", "").strip():
            raise validation_problem({"name": ["Give the customer's name."]})
        customer = customer_create(**fields.validated_data)
        path = reverse("api:customer-detail", kwargs={"pk": customer.pk})
        return Response(
            CustomerSerializer(customer).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": request.build_absolute_uri(path)},
        )


@extend_schema(tags=["customers"])
class CustomerDetail(ApiView):
    """One customer's contact details and preferences."""

    def _customer(self, pk: int) -> Customer:
        customer = Customer.objects.filter(pk=pk, anonymised_at__isnull=True).first()
        if customer is None:
            raise _not_found(f"Customer {pk}")
        return customer

    @extend_schema(responses={200: CustomerSerializer, **ERRORS}, operation_id="customers_read")
    def get(self, request, pk: int):
        _need(request.user, "accounts.view_customer", "read customers")
        return Response(CustomerSerializer(self._customer(pk)).data)

    @extend_schema(
        request=CustomerWriteSerializer,
        responses={200: CustomerSerializer, **ERRORS},
        operation_id="customers_update",
    )
    def patch(self, request, pk: int):
        _need(request.user, "accounts.change_customer", "change customers")
        customer = self._customer(pk)
        fields = CustomerWriteSerializer(data=request.data, partial=True)
        fields.is_valid(raise_exception=True)
        customer = customer_details_change(customer=customer, **fields.validated_data)
        return Response(CustomerSerializer(customer).data)


class RemedySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    approved_by = serializers.EmailField(source="approved_by.email", allow_null=True, default=None)
    given_at = serializers.DateTimeField()
    note = serializers.CharField()
    recorded_by = serializers.CharField(allow_null=True, default=None)
    voided_at = serializers.DateTimeField(allow_null=True)
    void_reason = serializers.CharField()


@extend_schema(tags=["complaint actions"])
class ComplaintRemedies(ApiView):
    """The remedies given on a complaint, voided ones too, oldest first."""

    @extend_schema(responses={200: RemedySerializer(many=True), **ERRORS})
    def get(self, request, reference: str):
        from complaints.services.remedies import remedies_of

        complaint = complaint_for(request, reference)
        _need(request.user, "complaints.view_remedy", "read remedies")
        return Response(RemedySerializer(remedies_of(complaint), many=True).data)
