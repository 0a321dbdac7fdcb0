"""Attachments are served only here, with permission checked on every request."""

import json
import mimetypes

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from attachments import selectors, services
from attachments.forms import CoverForm
from attachments.models import Attachment


def _unkept(response):
    """Nothing on the way may keep a copy: not a proxy, not the browser's cache."""
    patch_cache_control(response, private=True, no_store=True, max_age=0)
    return response


def _private(response):
    """A file's response: unkept, and inert even if opened on its own (no page rules apply)."""
    _unkept(response)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _send(field):
    """The file's bytes, or in production an ``X-Accel-Redirect`` for nginx to send them."""
    if not field:
        raise Http404
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    prefix = settings.SHUKANG_ATTACHMENTS_ACCEL_PREFIX
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{field.name}"
        return _private(response)
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = "inline"
    return _private(response)


@require_GET
def image(request, key):
    attachment = selectors.attachment_get_for_viewer(key=key, viewer=request.user)
    return _send(attachment.image)


@require_GET
def thumbnail(request, key):
    attachment = selectors.attachment_get_for_viewer(key=key, viewer=request.user)
    return _send(attachment.thumbnail)


@require_GET
def status(request, key):
    """Where the image stands, for the question page's script while the worker runs."""
    attachment = selectors.attachment_get_for_viewer(key=key, viewer=request.user)
    settled = attachment.is_settled
    html = (
        render_to_string("attachments/_card.html", {"a": attachment}, request=request)
        if settled
        else ""
    )
    response = JsonResponse(
        {
            "state": attachment.state,
            "label": attachment.get_state_display(),
            "settled": settled,
            "html": html,
        }
    )
    return _unkept(response)


def _own_or_moderated(request, key) -> Attachment:
    attachment = selectors.attachment_get_for_viewer(key=key, viewer=request.user)
    if attachment.owner_id != request.user.pk and not request.user.is_moderator:
        raise Http404
    return attachment


def cover(request, key):
    """The cover tool: boxes over what OCR found, placed already; the server burns them in."""
    attachment = _own_or_moderated(request, key)
    form = CoverForm(request.POST or None)
    status_code = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.attachment_cover(
                    attachment=attachment, user=request.user, boxes=form.cleaned_data["boxes"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("Covered. The image without those details is now shared with physicians."),
                )
                return redirect(attachment.question)
        status_code = 400
    response = render(
        request,
        "attachments/cover.html",
        {
            "attachment": attachment,
            "form": form,
            "findings": attachment.findings,
            "boxes_json": json.dumps([finding["box"] for finding in attachment.findings]),
            "kinds": dict(_finding_labels()),
        },
        status=status_code,
    )
    # A page: the site's own CSP applies; only the caching rules of the files.
    return _unkept(response)


def _finding_labels():
    return [
        ("phone", _("phone number")),
        ("id_number", _("ID number")),
        ("email", _("e-mail address")),
        ("name", _("name")),
        ("record_number", _("hospital or patient number")),
    ]


@require_POST
def review(request, key):
    """The author asks a moderator to look at what OCR found instead."""
    attachment = _own_or_moderated(request, key)
    try:
        services.attachment_request_review(attachment=attachment, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("A moderator will look at the image. Until then only you can see it.")
        )
    return redirect(attachment.question)


@require_POST
def remove(request, key):
    attachment = _own_or_moderated(request, key)
    services.attachment_remove(attachment=attachment, user=request.user)
    messages.success(request, _("The image is deleted."))
    return redirect(attachment.question)
