from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts import selectors, services
from accounts.forms import AccountDeleteForm, PhysicianApplicationForm, ProfileForm
from accounts.models import PhysicianProfile
from forum.models import Category

DOCTORS_PER_PAGE = 20


@login_required
def doctor_apply(request):
    profile = PhysicianProfile.objects.filter(user=request.user).first()
    if profile is not None and profile.is_verified:
        return render(request, "accounts/doctor_apply.html", {"profile": profile})
    form = PhysicianApplicationForm(request.POST or None, instance=profile, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.physician_apply(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "Thank you. A moderator will check your details and tell you when your profile is verified."
                ),
            )
            return redirect("accounts:profile")
    return render(request, "accounts/doctor_apply.html", {"form": form, "profile": profile})


@login_required
def account_export(request):
    response = JsonResponse(
        services.account_export(user=request.user),
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )
    response["Content-Disposition"] = 'attachment; filename="shukang-my-data.json"'
    return response


@login_required
def account_delete(request):
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_delete(user=request.user, password=form.cleaned_data["password"])
        except ValidationError as error:
            form.add_error("password", error.message_dict.get("password", error.messages))
        else:
            logout(request)
            messages.success(
                request, _("Your account and personal data have been deleted. Take care.")
            )
            return redirect("home")
    return render(request, "accounts/account_delete.html", {"form": form})


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update_profile(
            user=request.user,
            name=form.cleaned_data["name"],
            timezone_name=form.cleaned_data["timezone"],
        )
        messages.success(request, _("Your profile has been saved."))
        return redirect("accounts:profile")
    physician = PhysicianProfile.objects.filter(user=request.user).first()
    return render(request, "accounts/profile.html", {"form": form, "physician": physician})


def doctor_list(request):
    specialty = None
    if slug := request.GET.get("specialty"):
        specialty = get_object_or_404(Category, slug=slug)
    page = Paginator(selectors.doctor_list(specialty=specialty), DOCTORS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "accounts/doctor_list.html",
        {"page": page, "specialty": specialty, "categories": Category.objects.all()},
    )


def doctor_detail(request, user_id):
    return render(
        request, "accounts/doctor_detail.html", {"doctor": selectors.doctor_get(user_id=user_id)}
    )
