"""The ``attachments`` field of the ask and reply forms, and the cover tool's form."""

import json

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from attachments import imaging
from attachments.services import MAX_PER_POST

ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif,application/pdf"


def _help():
    return gettext(
        "Up to %(n)s photos of reports (JPEG, PNG, WebP, HEIC or PDF, at most 10 MB each). "
        "Only physicians and moderators will see them, after we remove what the camera "
        "recorded and you cover any names or numbers we find."
    ) % {"n": MAX_PER_POST}


# Written in the reader's language when the form is shown, not when it is defined.
_help_text = lazy(_help, str)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Up to six images (a PDF counts a page each), each checked from its bytes.

    Cleans to a list of ``imaging.Upload``: the real type is known, bombs,
    damaged files and anything that is not an image are refused with the
    file's name in the message. Nothing is stored here.
    """

    widget = MultipleFileInput(attrs={"accept": ACCEPT})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _help_text())
        super().__init__(**kwargs)

    def to_python(self, data):
        return data

    def validate(self, value):
        pass

    def clean(self, data, initial=None):
        files = [f for f in (data or []) if f is not None]
        if not files:
            return []
        if len(files) > MAX_PER_POST:
            raise forms.ValidationError(
                ngettext(
                    "Attach at most %(n)s image.", "Attach at most %(n)s images.", MAX_PER_POST
                )
                % {"n": MAX_PER_POST},
                code="too_many",
            )
        uploads, errors = [], []
        for upload in files:
            name = (upload.name or "")[-80:]
            if upload.size == 0:
                errors.append(_("“%(name)s” is empty.") % {"name": name})
                continue
            if upload.size > imaging.MAX_BYTES:
                errors.append(
                    _("“%(name)s” is larger than 10 MB. Take the photo again at a smaller size.")
                    % {"name": name}
                )
                continue
            try:
                uploads += imaging.inspect(upload.read(), name=name)
            except imaging.ImageRefused as error:
                errors.append(str(error))
        if errors:
            raise forms.ValidationError(errors)
        if len(uploads) > MAX_PER_POST:
            raise forms.ValidationError(
                _("That makes %(count)s images with the pages of your PDF; attach at most %(n)s.")
                % {"count": len(uploads), "n": MAX_PER_POST},
                code="too_many",
            )
        return uploads


class CoverForm(forms.Form):
    """The cover tool's boxes, in the image's own pixels, as JSON."""

    boxes = forms.CharField(widget=forms.HiddenInput, max_length=20_000)

    def clean_boxes(self):
        try:
            boxes = json.loads(self.cleaned_data["boxes"])
        except ValueError:
            raise forms.ValidationError(
                _("The boxes could not be read. Draw them again.")
            ) from None
        if not isinstance(boxes, list):
            raise forms.ValidationError(_("The boxes could not be read. Draw them again."))
        return boxes
