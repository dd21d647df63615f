"""Admin for users (email login, roles as groups), customers, integrations and API keys."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts import admin_needs, admin_representatives
from accounts.integrations import api_key_issue, api_key_revoke, integration_create
from accounts.models import ApiKey, ApiScope, Customer, Integration, User
from accounts.roles import STAFF_ROLES, Role
from accounts.services import customers_matching
from complaints.admin_base import CappedCountPaginator


class UserEmailCleanMixin:
    """Store email addresses in lower case and refuse one that differs only by case."""

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        others = User.objects.filter(email__iexact=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("A user with that email address already exists."))
        return email


class UserCreationAdminForm(UserEmailCleanMixin, AdminUserCreationForm):
    """Create a user from an email address, a name and a password."""

    class Meta:
        model = User
        fields = ("email", "name")


class UserChangeAdminForm(UserEmailCleanMixin, UserChangeForm):
    """Edit a user identified by email address."""

    class Meta:
        model = User
        fields = ("email", "name")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("name",)}),
        (
            _("Roles and permissions"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "description": _(
                    "Roles are groups. Staff roles also need “staff status” to use the desk."
                ),
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "name", "roles", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def roles(self, obj):
        return ", ".join(sorted(group.name for group in obj.groups.all())) or "—"


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "account_reference",
        "customer_type",
        "employee_count",
        "preferred_contact_method",
        "email",
        "phone",
    )
    list_filter = ("customer_type", "preferred_contact_method")
    # Shows the search box; the search itself is customers_matching (get_search_results).
    search_fields = ("name", "account_reference", "email", "phone")
    search_help_text = "An account reference, email address or telephone number, or part of a name."
    # A customer is added with every complaint from someone new: read a page at a time.
    list_per_page = 50
    paginator = CappedCountPaginator
    show_full_result_count = False
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at", "needs_block", "representatives_block", "subject_access")
    fieldsets = (
        (None, {"fields": ("name", "account_reference", "user", "created_at")}),
        (_("Needs (staff only)"), {"fields": ("needs_block",)}),
        (
            _("Representatives: someone acting for the customer"),
            {"fields": ("representatives_block",)},
        ),
        (_("Their data (UK GDPR)"), {"fields": ("subject_access",)}),
        (
            _("Contact details"),
            {"fields": ("email", "phone", "postal_address", "preferred_contact_method")},
        ),
        (_("Consumer or business (COP-16)"), {"fields": ("customer_type", "employee_count")}),
        (
            _("Contract (COP-03)"),
            {"fields": ("contract_reference", "contracted_response_working_days")},
        ),
    )

    class Media:
        css = {"all": ("css/desk.css",)}

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(pk__in=customers_matching(search_term).values("pk")), False

    @admin.display(description=_("subject access requests"))
    def subject_access(self, obj):
        """Links to log a request for everything we hold (a letter, a call) and to theirs."""
        if obj is None or obj.pk is None:
            return "-"
        add = reverse("admin:accounts_subjectaccessrequest_add")
        listed = reverse("admin:accounts_subjectaccessrequest_changelist")
        return format_html(
            '<a href="{}?customer={}">Log a request for everything we hold</a> · '
            '<a href="{}?customer__id__exact={}">Their requests</a>',
            add, obj.pk, listed, obj.pk,
        )  # fmt: skip

    @admin.display(description=_("recorded needs"))
    def needs_block(self, obj):
        if obj is None or obj.pk is None:
            return "Save the customer first."
        return admin_needs.needs_summary_html(obj)

    @admin.display(description=_("representatives"))
    def representatives_block(self, obj):
        if obj is None or obj.pk is None:
            return "Save the customer first."
        # The links' pages check the permissions themselves.
        return admin_representatives.representatives_summary_html(obj)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            *admin_representatives.representative_urls(self),
            path(
                "<path:object_id>/needs/",
                wrap(lambda r, object_id: admin_needs.needs_record_view(self, r, object_id)),
                name="accounts_customer_needs",
            ),
            path(
                "<path:object_id>/needs/withdraw/",
                wrap(lambda r, object_id: admin_needs.needs_withdraw_view(self, r, object_id)),
                name="accounts_customer_needs_withdraw",
            ),
            path(
                "<path:object_id>/needs/review/",
                wrap(lambda r, object_id: admin_needs.needs_review_view(self, r, object_id)),
                name="accounts_customer_needs_review",
            ),
            *super().get_urls(),
        ]

    def has_delete_permission(self, request, obj=None):
        # Customers own complaints, which are never deleted.
        return False


class IntegrationAddForm(forms.ModelForm):
    """A new integration: its name and the staff role it acts as (fixed once created)."""

    acting_role = forms.ChoiceField(
        label=_("Acting staff role"),
        choices=[(r.value, r.label) for r in Role if r in STAFF_ROLES],
        help_text=_("Its department scoping and permissions are those of this role."),
    )

    class Meta:
        model = Integration
        fields = ("name",)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Integration.objects.filter(name__iexact=name).exists():
            raise ValidationError(_("An integration with this name already exists."))
        return name


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ("prefix", "label", "scopes", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ("name", "role", "user", "created_at")
    readonly_fields = ("role", "user", "created_at", "created_by")
    inlines = (ApiKeyInline,)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = IntegrationAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = integration_create(
            name=form.cleaned_data["name"], role=form.cleaned_data["acting_role"], by=request.user
        )
        obj.pk, obj.user, obj.role = created.pk, created.user, created.role
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False  # keys are revoked; the record of who used the API stays


class ApiKeyAddForm(forms.ModelForm):
    key_scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiScope.READ],
    )

    class Meta:
        model = ApiKey
        fields = ("integration", "label", "expires_at")

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at is not None and expires_at <= timezone.now():
            raise ValidationError(_("The expiry must be in the future."))
        return expires_at


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "integration", "scopes", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("integration",)
    readonly_fields = (
        "integration",
        "prefix",
        "scopes",
        "created_at",
        "created_by",
        "expires_at",
        "revoked_at",
        "revoked_by",
        "last_used_at",
    )
    actions = ("revoke",)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        issued = api_key_issue(
            integration=form.cleaned_data["integration"],
            scopes=form.cleaned_data["key_scopes"],
            expires_at=form.cleaned_data["expires_at"],
            label=form.cleaned_data["label"],
            by=request.user,
        )
        obj.pk = issued.key.pk
        obj._state.adding = False
        messages.warning(
            request,
            _("The new key, shown this once (copy it now; only its hash is kept): %(key)s")
            % {"key": issued.plaintext},
        )

    @admin.action(description=_("Revoke the selected keys now"), permissions=["change"])
    def revoke(self, request, queryset):
        done = sum(api_key_revoke(key=key, by=request.user) for key in queryset)
        self.message_user(request, _("%(n)d key(s) revoked.") % {"n": done})

    def has_delete_permission(self, request, obj=None):
        return False


from accounts import admin_sar  # noqa: E402, F401  (subject access requests)
