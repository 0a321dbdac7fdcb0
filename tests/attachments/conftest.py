"""Photos of reports, made in the test: never a binary file in the repository."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
GPS = {1: "N", 2: (31.0, 12.0, 30.5), 3: "E", 4: (121.0, 28.0, 12.25)}


def _ocr_missing() -> str | None:
    from attachments import imaging

    if not imaging.ocr_available():
        return "Tesseract with chi_sim and eng is not installed (apt-get install tesseract-ocr tesseract-ocr-chi-sim)"
    if not FONT.exists():
        return "the report photos are drawn in Noto Sans CJK (apt-get install fonts-noto-cjk)"
    return None


# The tests that read photos with OCR, as the worker does.
needs_ocr = pytest.mark.skipif(_ocr_missing() is not None, reason=_ocr_missing() or "")

REPORT_LINES = ("检验报告单", "电话：13812345678", "CEA 5.2 ng/mL  参考值 0-5")


def photo(
    lines=REPORT_LINES, *, size=(1400, 1000), gps=True, orientation=None, fmt="JPEG"
) -> bytes:
    """A phone photo of a report: black text on white, with GPS and camera EXIF."""
    image = Image.new("RGB", size, (250, 250, 246))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 56) if FONT.exists() else ImageFont.load_default()
    for number, line in enumerate(lines):
        draw.text((80, 90 + number * 130), line, fill=(20, 20, 20), font=font)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "PhoneModel 12"
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = GPS
    buffer = io.BytesIO()
    image.save(buffer, fmt, exif=exif.tobytes(), quality=90)
    return buffer.getvalue()


def plain_photo(size=(800, 600)) -> bytes:
    """A photo with nothing written on it."""
    image = Image.new("RGB", size, (120, 160, 200))
    ImageDraw.Draw(image).ellipse((100, 100, 500, 400), fill=(200, 120, 90))
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x8825] = GPS
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=90)
    return buffer.getvalue()


def upload(data: bytes, name: str = "report.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def report_photo() -> bytes:
    return photo()


@pytest.fixture
def clean_photo() -> bytes:
    return plain_photo()


def processed(question, count: int = 1, *, state="ready", findings=()) -> list:
    """``count`` images on ``question`` as the worker leaves them, in ``state``."""
    from attachments import imaging, services

    uploads = imaging.inspect(plain_photo(), name="p.jpg") * count
    rows = services.attachments_add(owner=question.author, question=question, uploads=uploads)
    for row in rows:
        with row.original.open("rb") as original:
            safe = imaging.make_safe(original.read())
        services._store_safe(row, safe)
        row.state = state
        row.findings = [{"kind": kind, "box": [10, 10, 200, 60]} for kind in findings]
        row.ocr_checked = True
        row.save()
    return rows
