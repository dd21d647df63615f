"""Portal accounts: sign up, sign in and out, reset a password, change contact details."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from accounts.backends import LOGIN_BACKEND
from accounts.emails import confirmation_email_send
from accounts.forms import ContactDetailsForm, SignupForm
from accounts.models import User
from accounts.services import customer_contact_change, portal_customer


@require_http_methods(["GET", "POST"])
def signup(request):
    """Create a portal login; complaints show once the email address is confirmed."""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                user = User.objects.create_user(data["email"], data["password1"], name=data["name"])
                confirmation_email_send(request, email=user.email, user=user)
        except IntegrityError:  # the same address signed up a moment ago
            form.add_error("email", SignupForm.ALREADY)
            return render(request, "accounts/signup.html", {"form": form})
        login(request, user, backend=LOGIN_BACKEND)
        messages.success(
            request,
            f"Your account is ready. We have sent a link to {user.email}: open it to confirm "
            "your address and see your complaints.",
        )
        return redirect("complaints:my-complaints")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def details(request):
    """Change contact details and the preferred contact method."""
    customer = portal_customer(request.user)
    if customer is None:
        return redirect("complaints:my-complaints")
    form = ContactDetailsForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in ContactDetailsForm.Meta.fields}
        customer_contact_change(customer=customer, **fields)
        messages.success(request, "Your details are saved.")
        return redirect("accounts:details")
    return render(request, "accounts/details.html", {"form": form, "customer": customer})


@login_required
@require_http_methods(["GET", "POST"])
def password_set(request):
    """Set or change the password (customers who came by an email link have none yet)."""
    form_class = SetPasswordForm if not request.user.has_usable_password() else None
    if form_class is None:
        return auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html",
            success_url=reverse_lazy("accounts:details"),
        )(request)
    form = form_class(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        login(request, request.user, backend=LOGIN_BACKEND)
        messages.success(request, "Your password is set.")
        return redirect("accounts:details")
    return render(request, "accounts/password_change.html", {"form": form})
