"""Formal complaints and ADR records through the API (COP-15 to COP-18).

Reading needs the ``read`` scope and a role that sees the complaint; every senior
manager's action needs the ``formal`` scope as well, and a role that reviews formal
complaints (the escalation services check that again, as for a person).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from accounts.models import ApiScope
from complaints.api import forms as api_forms
from complaints.api.problems import Problem, validation_problem
from complaints.api.views import ERRORS, ApiView, _need, _not_found, if_match_version
from complaints.bundles import bundle_can_view, bundle_downloaded, bundle_filename, bundles_of
from complaints.models import Bundle, BundleKind, BundleState
from complaints.selectors import complaints_visible_to
from escalation import forms as workspace_forms
from escalation.models import AdrReferral, FormalCase
from escalation.services import (
    adr_decision_record,
    adr_referral_record,
    adr_remedy_complete,
    case_file_produce,
    case_file_request_record,
    deadlock_letter_issue,
    final_proposition_send,
    formal_case_appoint,
    formal_note_add,
    formal_review_save,
    reviewer_can_act,
)


class AdrReferralSerializer(serializers.ModelSerializer):
    case_file_due_at = serializers.DateTimeField(
        source="complaint.case_file_due_at",
        allow_null=True,
        help_text="The scheme's deadline for our case file (COP-18), a clock the sweep tracks.",
    )
    case_file_ready_at = serializers.DateTimeField(
        source="complaint.case_file_ready_at",
        allow_null=True,
        help_text="When the first case file made since the scheme's request was ready.",
    )

    class Meta:
        model = AdrReferral
        fields = [
            "referred_at",
            "scheme_reference",
            "decision",
            "decided_at",
            "customer_accepted",
            "remedy",
            "remedy_due_at",
            "remedy_completed_at",
            "case_file_requested_on",
            "case_file_reference",
            "case_file_due_at",
            "case_file_ready_at",
        ]


class CaseFileSerializer(serializers.ModelSerializer):
    """One version of the ombudsman's case file (a ZIP built in the background)."""

    requested_by = serializers.CharField(source="requested_by.name", allow_null=True, default=None)
    download = serializers.SerializerMethodField(
        help_text="Where to download the ZIP once it is ready (formal scope)."
    )

    class Meta:
        model = Bundle
        fields = [
            "version",
            "state",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "progress_done",
            "progress_total",
            "size",
            "sha256",
            "error",
            "download",
        ]

    def get_download(self, bundle) -> str | None:
        if bundle.state != BundleState.READY:
            return None
        case = bundle.complaint.formal_case
        return reverse(
            "api:formal-case-file-download", args=[case.register_reference, bundle.version]
        )


class FormalCaseSerializer(serializers.ModelSerializer):
    complaint = serializers.CharField(source="complaint.reference")
    senior_manager = serializers.SerializerMethodField()
    adr_referral = serializers.SerializerMethodField()
    case_files = serializers.SerializerMethodField(
        help_text="Every case file produced for the ombudsman, newest first."
    )

    class Meta:
        model = FormalCase
        fields = [
            "register_reference",
            "complaint",
            "requested",
            "senior_manager",
            "opened_at",
            "reason",
            "further_investigation",
            "findings",
            "proposed_action",
            "outcome",
            "final_proposition_sent_at",
            "version",
            "adr_referral",
            "case_files",
        ]

    def get_senior_manager(self, case) -> dict | None:
        manager = case.senior_manager
        return {"name": manager.name, "email": manager.email} if manager else None

    def get_adr_referral(self, case) -> dict | None:
        referral = getattr(case.complaint, "adr_referral", None)
        return AdrReferralSerializer(referral).data if referral else None

    @extend_schema_field(CaseFileSerializer(many=True))
    def get_case_files(self, case) -> list:
        files = getattr(case.complaint, "case_files", None)
        if files is None:  # not prefetched (one case): read them now
            files = bundles_of(kind=BundleKind.OMBUDSMAN_CASE_FILE, complaint=case.complaint)
        for bundle in files:
            bundle.complaint = case.complaint
        return CaseFileSerializer(files, many=True).data


def _cases(user):
    return (
        FormalCase.objects.filter(complaint__in=complaints_visible_to(user))
        .select_related("complaint__adr_referral", "senior_manager")
        .prefetch_related(
            Prefetch(
                "complaint__bundles",
                queryset=Bundle.objects.filter(kind=BundleKind.OMBUDSMAN_CASE_FILE)
                .select_related("requested_by")
                .order_by("-version"),
                to_attr="case_files",
            )
        )
    )


def _case(request, register_reference: str) -> FormalCase:
    _need(request.user, "complaints.view_complaint", "read complaints")
    case = _cases(request.user).filter(register_reference=register_reference.upper()).first()
    if case is None:
        raise _not_found(f"Formal case {register_reference}")
    return case


class FormalPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema(tags=["formal complaints and ADR"])
class FormalCaseList(ApiView):
    """Formal complaints this key may see, newest first (the register, COP-15)."""

    @extend_schema(
        parameters=[OpenApiParameter("outcome", str, enum=FormalCase.Outcome.values)],
        responses={200: FormalCaseSerializer(many=True), **ERRORS},
        operation_id="formal_cases_list",
    )
    def get(self, request):
        _need(request.user, "complaints.view_complaint", "read complaints")
        cases = _cases(request.user)
        if outcome := request.query_params.get("outcome"):
            if outcome not in FormalCase.Outcome.values:
                raise validation_problem(
                    {"outcome": [f"Use one of {', '.join(FormalCase.Outcome.values)}."]}
                )
            cases = cases.filter(outcome=outcome)
        paginator = FormalPagination()
        page = paginator.paginate_queryset(cases, request, view=self)
        return paginator.get_paginated_response(FormalCaseSerializer(page, many=True).data)


@extend_schema(tags=["formal complaints and ADR"])
class FormalCaseDetail(ApiView):
    """One formal complaint: the review, its outcome, and any ADR referral."""

    @extend_schema(
        responses={200: FormalCaseSerializer, **ERRORS}, operation_id="formal_cases_read"
    )
    def get(self, request, register_reference: str):
        case = _case(request, register_reference)
        return Response(FormalCaseSerializer(case).data, headers={"ETag": f'"{case.version}"'})


def _manager_by_email(payload, field: str) -> dict:
    payload = dict(payload.items()) if hasattr(payload, "items") else {}
    email = payload.get(field)
    if isinstance(email, str) and email.strip():
        person = get_user_model().objects.filter(email__iexact=email.strip()).first()
        if person is None:
            raise validation_problem({field: [f"No member of staff has the email {email!r}."]})
        payload[field] = person.pk
    return payload


def _referral(case: FormalCase) -> AdrReferral:
    referral = AdrReferral.objects.filter(complaint=case.complaint).first()
    if referral is None:
        raise Problem(
            409,
            "lifecycle",
            "No ADR referral recorded",
            f"{case.register_reference} has no ADR referral: record the referral first.",
            current_status=case.complaint.status,
        )
    return referral


@dataclass(frozen=True)
class FormalAction:
    name: str
    path: str
    label: str
    form: type[forms.Form] | None
    run: Callable[[FormalCase, object, dict], object]


class _NoFields(forms.Form):
    pass


FORMAL_ACTIONS = [
    FormalAction(
        "review",
        "review",
        "Save the review",
        workspace_forms.ReviewForm,
        lambda c, u, d: formal_review_save(
            case=c,
            actor=u,
            further_investigation=d["further_investigation"],
            findings=d["findings"],
            proposed_action=d["proposed_action"],
            expected_version=d["version"],
        ),
    ),
    FormalAction(
        "note",
        "notes",
        "Add a note",
        workspace_forms.FormalNoteForm,
        lambda c, u, d: formal_note_add(case=c, actor=u, body=d["body"]),
    ),
    FormalAction(
        "appoint",
        "appoint",
        "Appoint the reviewing senior manager",
        workspace_forms.AppointForm,
        lambda c, u, d: formal_case_appoint(case=c, manager=d["senior_manager"], actor=u),
    ),
    FormalAction(
        "final_proposition",
        "final-proposition",
        "Send the final proposition (and the deadlock letter)",
        _NoFields,
        lambda c, u, d: final_proposition_send(case=c, actor=u),
    ),
    FormalAction(
        "deadlock",
        "deadlock-letter",
        "Issue a deadlock letter",
        workspace_forms.DeadlockForm,
        lambda c, u, d: deadlock_letter_issue(complaint=c.complaint, actor=u, reason=d["reason"]),
    ),
    FormalAction(
        "adr_referral",
        "adr-referral",
        "Record the referral to the ADR scheme",
        workspace_forms.ReferralForm,
        lambda c, u, d: adr_referral_record(complaint=c.complaint, actor=u, **d),
    ),
    FormalAction(
        "case_file_request",
        "case-file-request",
        "Record the ADR scheme's request for our case file (date, reference, deadline)",
        workspace_forms.CaseFileRequestForm,
        lambda c, u, d: case_file_request_record(referral=_referral(c), actor=u, **d),
    ),
    FormalAction(
        "case_file",
        "case-file",
        "Produce the ombudsman's case file (a ZIP built in the background; see case_files)",
        _NoFields,
        lambda c, u, d: case_file_produce(case=c, actor=u),
    ),
    FormalAction(
        "adr_decision",
        "adr-decision",
        "Record the ADR scheme's decision",
        workspace_forms.DecisionForm,
        lambda c, u, d: adr_decision_record(referral=_referral(c), actor=u, **d),
    ),
    FormalAction(
        "adr_remedy_done",
        "adr-remedy-done",
        "Record the ADR remedy as done",
        workspace_forms.RemedyDoneForm,
        lambda c, u, d: adr_remedy_complete(referral=_referral(c), actor=u, note=d["note"]),
    ),
]


class FormalCaseAction(ApiView):
    required_scopes = (ApiScope.FORMAL,)
    formal_action: FormalAction

    def post(self, request, register_reference: str):
        action = self.formal_action
        case = _case(request, register_reference)
        if not reviewer_can_act(request.user):
            raise PermissionDenied(
                "Only senior managers act on formal complaints (COP-15): this key's "
                "integration does not have that role."
            )
        payload = request.data
        if action.name == "appoint":
            payload = _manager_by_email(payload, "senior_manager")
        versioned = "version" in action.form.base_fields
        version = if_match_version(request)
        if versioned and version is None:
            raise Problem(
                428,
                "if-match-required",
                "If-Match required",
                "Send If-Match with the ETag of the formal case as you last read it.",
            )
        data = api_forms.form_clean(action.form, payload, request.FILES, exclude=("version",))
        if versioned:
            data["version"] = version
        action.run(case, request.user, data)
        case = _cases(request.user).get(pk=case.pk)
        return Response(FormalCaseSerializer(case).data, headers={"ETag": f'"{case.version}"'})


def _formal_view(action: FormalAction) -> type[FormalCaseAction]:
    versioned = "version" in action.form.base_fields
    body = api_forms.form_serializer(
        action.form,
        f"Formal{''.join(p.title() for p in action.name.split('_'))}Request",
        ("version",),
    )

    def post(self, request, register_reference: str):
        return FormalCaseAction.post(self, request, register_reference)

    post = extend_schema(
        summary=action.label,
        request=body,
        parameters=[
            OpenApiParameter(
                "If-Match",
                str,
                OpenApiParameter.HEADER,
                required=versioned,
                description="The ETag of the formal case as you last read it.",
            )
        ],
        responses={200: FormalCaseSerializer, **ERRORS},
        operation_id=f"formal_cases_{action.name}",
        tags=["formal complaints and ADR"],
    )(post)
    return type(
        f"Formal{body.__name__[6:-7]}Action",
        (FormalCaseAction,),
        {"formal_action": action, "post": post, "__doc__": action.label},
    )


FORMAL_ACTION_VIEWS = {action.path: _formal_view(action) for action in FORMAL_ACTIONS}


@extend_schema(tags=["formal complaints and ADR"])
class FormalCaseFileDownload(ApiView):
    """Download one version of the ombudsman's case file (a ZIP), once it is ready."""

    required_scopes = (ApiScope.FORMAL,)

    @extend_schema(
        responses={(200, "application/zip"): OpenApiTypes.BINARY, **ERRORS},
        operation_id="formal_cases_case_file_download",
    )
    def get(self, request, register_reference: str, version: int):
        case = _case(request, register_reference)
        if not reviewer_can_act(request.user):
            raise PermissionDenied(
                "Only senior managers handle the ombudsman's case file (COP-15, COP-18): "
                "this key's integration does not have that role."
            )
        bundle = (
            bundles_of(kind=BundleKind.OMBUDSMAN_CASE_FILE, complaint=case.complaint)
            .filter(version=version)
            .first()
        )
        if bundle is None or not bundle_can_view(request.user, bundle):
            raise _not_found(f"Case file version {version} of {case.register_reference}")
        if bundle.state != BundleState.READY:
            raise Problem(
                409,
                "not-ready",
                "Case file not ready",
                f"Version {version} is {bundle.get_state_display().lower()}"
                + (f": {bundle.error}" if bundle.error else "; try again shortly."),
            )
        try:
            handle = bundle.file.open("rb")
        except FileNotFoundError:
            raise Problem(
                410, "gone", "No longer held", "This case file is no longer held."
            ) from None
        bundle.complaint = case.complaint
        bundle_downloaded(bundle=bundle, actor=request.user)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=bundle_filename(bundle),
            content_type="application/zip",
        )
