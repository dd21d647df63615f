"""Admin for users (email login, roles as groups) and customers."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer, User
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
    readonly_fields = ("created_at",)
    fieldsets = (
        (None, {"fields": ("name", "account_reference", "user", "created_at")}),
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

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(pk__in=customers_matching(search_term).values("pk")), False

    def has_delete_permission(self, request, obj=None):
        # Customers own complaints, which are never deleted.
        return False
