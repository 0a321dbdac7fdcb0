"""attachments.imaging: what is taken, what is made of it, and what OCR covers up.

Every image is drawn here with Pillow; no binary file is kept in the repository.
"""

import io
import struct
import time
import warnings
import zlib
from pathlib import Path

import pytest
from django.utils import translation
from PIL import Image, ImageCms, ImageDraw, ImageFile, ImageFilter, ImageFont

from attachments import imaging
from attachments.imaging import ImageRefused, Line, Word
from moderation.detectors import find_personal_data

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
GPS = {1: "N", 2: (31.0, 12.0, 30.5), 3: "E", 4: (121.0, 28.0, 12.25)}
RED = (220, 30, 30)


def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def picture(size=(400, 300), mode="RGB") -> Image.Image:
    """A picture with a red square in its top-left corner, to tell which way is up."""
    image = Image.new(mode, size, (120, 160, 200) if mode == "RGB" else (120, 160, 200, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse(
        (size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4), fill=(200, 120, 90)
    )
    draw.rectangle((0, 0, 40, 40), fill=RED)
    return image


def camera_jpeg(size=(400, 300), *, orientation=None) -> bytes:
    """A JPEG as a phone writes it: camera EXIF with GPS, an ICC profile, a comment."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "PhoneModel 12"
    exif[0x8825] = GPS
    if orientation:
        exif[0x0112] = orientation
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(
        picture(size), exif=exif.tobytes(), icc_profile=srgb, comment=b"secret", quality=90
    )


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height and holds no pixels: decoding it would fail."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )


def pdf(pages: int) -> bytes:
    images = [picture((600, 800)) for _ in range(pages)]
    return encode(images[0], "PDF", save_all=True, append_images=images[1:], resolution=72)


def locked_pdf() -> bytes:
    """A one-page PDF that asks for a password (its /U entry matches no empty password)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Filter /Standard /V 1 /R 2 /P -4 /O <"
        + b"11" * 32
        + b"> /U <"
        + b"22" * 32
        + b"> >>",
    ]
    data, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(data))
        data += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    data += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    data += b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1,
        b"33" * 16,
        b"33" * 16,
    )
    return data + b"startxref\n%d\n%%%%EOF\n" % xref


def refusal(data: bytes, name: str = "report.jpg") -> ImageRefused:
    with pytest.raises(ImageRefused) as caught:
        imaging.inspect(data, name=name)
    assert name in caught.value.message
    return caught.value


# inspect: what is taken -----------------------------------------------------------------


def test_jpeg_is_taken_as_it_came_with_its_displayed_size():
    data = camera_jpeg((400, 300), orientation=6)

    [upload] = imaging.inspect(data, name="IMG_0001.jpg")

    assert (upload.kind, upload.width, upload.height) == ("jpeg", 300, 400)
    assert upload.data == data


@pytest.mark.parametrize(
    ("fmt", "kind"), [("PNG", "png"), ("WEBP", "webp"), ("HEIF", "heic")], ids=str.lower
)
def test_other_photo_types_are_taken(fmt, kind):
    data = encode(picture((640, 480)), fmt, quality=80)

    [upload] = imaging.inspect(data, name=f"photo.{kind}")

    assert (upload.kind, upload.width, upload.height) == (kind, 640, 480)
    assert upload.data == data


def test_heic_from_an_iphone_brand_is_recognised_whatever_its_name():
    data = encode(picture((640, 480)), "HEIF", quality=80)
    assert data[4:8] == b"ftyp"

    [upload] = imaging.inspect(data, name="IMG_0002.JPG")

    assert upload.kind == "heic"


def test_pdf_pages_become_png_images():
    uploads = imaging.inspect(pdf(2), name="report.pdf")

    assert [upload.kind for upload in uploads] == ["png", "png"]
    for upload in uploads:
        assert upload.data.startswith(b"\x89PNG")
        # 600 × 800 points at 150 dpi.
        assert (upload.width, upload.height) == (1250, 1667)
        with Image.open(io.BytesIO(upload.data)) as page:
            assert page.size == (upload.width, upload.height)
            assert page.convert("RGB").getpixel((20, 20))[0] > 180  # the red corner


def test_pdf_pages_are_capped_at_3000_pixels():
    page = picture((300, 6000))
    [upload] = imaging.inspect(encode(page, "PDF", resolution=72), name="long.pdf")

    assert upload.height == 3000
    assert upload.width == 150


def test_large_jpeg_is_inspected_quickly(capsys):
    image = Image.merge(
        "RGB",
        [
            Image.linear_gradient("L").resize((4000, 3000)),
            Image.effect_noise((4000, 3000), 40),
            Image.radial_gradient("L").resize((4000, 3000)),
        ],
    )
    data = encode(image, quality=90)

    started = time.perf_counter()
    [upload] = imaging.inspect(data, name="big.jpg")
    elapsed = time.perf_counter() - started

    assert (upload.width, upload.height) == (4000, 3000)
    with capsys.disabled():
        print(f"\ninspect of a 4000×3000 JPEG ({len(data) // 1024} KB): {elapsed * 1000:.0f} ms")


# inspect: what is refused ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200, "type"),
        (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "type"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "type"),
        (encode(picture(), "GIF"), "type"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 100, "type"),
        (b"\xff\xd8\xff" + b"\x00" * (11 * 1024 * 1024), "too_big"),
        (encode(picture((16, 16))), "too_small"),
        (b"%PDF-1.4\n1 0 obj\nthis is not a PDF\n", "damaged"),
    ],
    ids=["empty", "exe", "html", "svg", "gif", "avif", "11MB", "tiny", "broken-pdf"],
)
def test_what_is_not_a_plain_photo_is_refused(data, code):
    assert refusal(data).code == code


@pytest.mark.parametrize(
    "markup",
    [b"<html><script>alert(1)</script>", b"<SVG onload=alert(1)>", b"<?php system($_GET[c]);"],
)
def test_valid_image_with_markup_appended_is_refused(markup):
    data = camera_jpeg() + markup
    with Image.open(io.BytesIO(data)) as image:
        image.load()  # still a valid JPEG to Pillow

    assert refusal(data).code == "markup"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "HEIF"])
def test_markup_appended_to_other_types_is_refused(fmt):
    data = encode(picture(), fmt, quality=80) + b"<html><script>alert(1)</script>"

    assert refusal(data, name="photo").code == "markup"


def test_markup_hidden_in_a_png_text_chunk_is_refused():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "<iframe src=//evil.example>")

    assert refusal(encode(picture(), "PNG", pnginfo=info), name="x.png").code == "markup"


def test_markup_in_a_jpeg_comment_is_refused():
    data = encode(picture(), quality=90, comment=b"<script>alert(1)</script>")

    assert refusal(data).code == "markup"


def test_markup_like_bytes_in_the_compressed_pixels_are_no_refusal():
    # Compressed pixels are as good as random, and "<svg" turns up in them by chance.
    row = b"\x00" + b"<svg >" * 32  # no filter: 64 pixels of these bytes
    data = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(row * 64, 0))  # stored as they are
        + png_chunk(b"IEND", b"")
    )
    assert b"<svg >" in data

    [upload] = imaging.inspect(data, name="scan.png")

    assert upload.kind == "png"


def test_truncated_jpeg_is_refused():
    data = camera_jpeg((1200, 900))

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert refusal(data[: len(data) // 2]).code == "damaged"


def test_truncated_png_is_refused():
    data = encode(picture((800, 600)), "PNG")

    assert refusal(data[: len(data) // 2], name="x.png").code == "damaged"


def test_truncated_images_are_never_loaded_even_if_pillow_is_told_to(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)

    with pytest.raises(RuntimeError):
        imaging.inspect(camera_jpeg(), name="report.jpg")


def test_huge_png_is_refused_from_its_header():
    # Decoding would fail on the missing pixels: "bomb", not "damaged", shows it was not tried.
    assert refusal(png_header_only(20_000, 20_000), name="bomb.png").code == "bomb"


def test_png_over_40_megapixels_is_refused_with_its_size():
    refused = refusal(png_header_only(8000, 6000), name="big.png")

    assert refused.code == "too_many_pixels"
    assert "8000 × 6000" in refused.message


def test_pillow_bomb_warning_raised_as_error_is_a_refusal():
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        refused = refusal(png_header_only(10_000, 10_000), name="bomb.png")

    assert refused.code in ("bomb", "too_many_pixels")


def test_pdf_with_too_many_pages_is_refused():
    refused = refusal(pdf(10), name="scan.pdf")

    assert refused.code == "too_many_pages"
    assert "10 pages" in refused.message


def test_pdf_with_a_password_is_refused():
    assert refusal(locked_pdf(), name="locked.pdf").code == "password"


def test_refusal_is_in_the_patients_language():
    english = refusal(b"", name="IMG_0003.jpg")
    with translation.override("zh-hans"):
        chinese = refusal(b"", name="IMG_0003.jpg")

    assert english.message == "“IMG_0003.jpg” is empty. Please choose the photo again."
    assert chinese.message != english.message
    assert str(chinese) == chinese.message


def test_pdf_with_six_pages_is_taken():
    assert len(imaging.inspect(pdf(6), name="scan.pdf")) == 6


# make_safe ------------------------------------------------------------------------------


def test_make_safe_drops_exif_gps_icc_comment_and_trailing_bytes():
    data = camera_jpeg((400, 300), orientation=6) + b"TRAILING-SECRET-BYTES"

    safe = imaging.make_safe(data)

    assert b"TRAILING-SECRET-BYTES" not in safe.image
    assert safe.image.endswith(b"\xff\xd9")
    for jpeg in (safe.image, safe.thumbnail):
        assert b"Exif" not in jpeg and b"ICC_PROFILE" not in jpeg and b"secret" not in jpeg
        with Image.open(io.BytesIO(jpeg)) as image:
            assert image.format == "JPEG"
            assert not image.getexif()
            assert not {"exif", "icc_profile", "comment", "xmp"} & set(image.info)


def test_make_safe_turns_the_image_upright():
    safe = imaging.make_safe(camera_jpeg((400, 300), orientation=6))

    assert (safe.width, safe.height) == (300, 400)
    with Image.open(io.BytesIO(safe.image)) as image:
        assert image.size == (300, 400)
        # Orientation 6: the stored top-left corner is shown at the top right.
        red, green, _blue = image.getpixel((300 - 10, 10))
        assert red > 180 and green < 80


def test_make_safe_limits_size_and_makes_a_thumbnail():
    safe = imaging.make_safe(encode(picture((4000, 3000)), quality=90))

    assert (safe.width, safe.height) == (3000, 2250)
    with Image.open(io.BytesIO(safe.thumbnail)) as thumbnail:
        assert thumbnail.size == (320, 240)


def test_make_safe_flattens_transparency_onto_white():
    image = picture((200, 100), mode="RGBA")
    ImageDraw.Draw(image).rectangle((100, 0, 199, 99), fill=(0, 0, 0, 0))

    safe = imaging.make_safe(encode(image, "PNG"))

    with Image.open(io.BytesIO(safe.image)) as result:
        assert result.mode == "RGB"
        assert min(result.getpixel((150, 50))) > 245


def test_make_safe_converts_heic_and_palette_png():
    heic = imaging.make_safe(encode(picture((640, 480)), "HEIF", quality=80))
    palette = imaging.make_safe(encode(picture((640, 480)).convert("P"), "PNG"))

    assert (heic.width, heic.height) == (palette.width, palette.height) == (640, 480)


@pytest.mark.parametrize(
    "image",
    [
        Image.radial_gradient("L").resize((300, 200)).convert("CMYK"),
        Image.radial_gradient("L").resize((300, 200)).convert("I").point(lambda v: v * 256),
        Image.radial_gradient("L").resize((300, 200)).convert("1"),
    ],
    ids=["cmyk", "16-bit-grey", "1-bit"],
)
def test_make_safe_brings_every_mode_to_rgb(image):
    fmt = "JPEG" if image.mode == "CMYK" else "PNG"
    if image.mode == "I":
        image = image.convert("I;16")

    safe = imaging.make_safe(encode(image, fmt))

    with Image.open(io.BytesIO(safe.image)) as result:
        assert (result.mode, result.size) == ("RGB", (300, 200))
        assert max(result.getpixel((150, 100))) < 30  # the dark centre
        assert min(result.getpixel((0, 0))) > 225  # the light corner


def test_make_safe_ignores_a_broken_icc_profile():
    data = encode(picture(), quality=90, icc_profile=b"not a profile at all" * 10)

    safe = imaging.make_safe(data)

    with Image.open(io.BytesIO(safe.image)) as image:
        assert "icc_profile" not in image.info


def swapped_profile() -> bytes:
    """An RGB profile with the red and green primaries swapped: its red is sRGB's green."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = int.from_bytes(data[128:132], "big")
    tags = {bytes(data[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    red, green = tags[b"rXYZ"], tags[b"gXYZ"]
    data[red + 4 : red + 12], data[green + 4 : green + 12] = (
        data[green + 4 : green + 12],
        data[red + 4 : red + 12],
    )
    return bytes(data)


def test_make_safe_converts_an_embedded_profile_to_srgb():
    data = encode(
        Image.new("RGB", (64, 64), (255, 0, 0)), quality=95, icc_profile=swapped_profile()
    )

    safe = imaging.make_safe(data)

    with Image.open(io.BytesIO(safe.image)) as image:
        red, green, blue = image.getpixel((32, 32))
        assert green > 200 and red < 80 and blue < 80
        assert "icc_profile" not in image.info


def test_make_safe_refuses_what_does_not_decode():
    data = camera_jpeg((1200, 900))

    with pytest.raises(ImageRefused) as caught:
        imaging.make_safe(data[: len(data) // 2])

    assert caught.value.code == "damaged"


# burn -----------------------------------------------------------------------------------


def test_burn_blacks_out_boxes_clamped_to_the_image():
    safe = imaging.make_safe(encode(Image.new("RGB", (400, 300), (250, 250, 250)), quality=90))

    burned = imaging.burn(safe.image, [(50, 50, 100, 40), (350, 250, 500, 500), (10, 10, 0, 30)])

    assert (burned.width, burned.height) == (400, 300)
    with Image.open(io.BytesIO(burned.image)) as image:
        assert max(image.getpixel((100, 70))) < 20
        assert max(image.getpixel((399, 299))) < 20
        assert min(image.getpixel((10, 20))) > 230  # the empty box drew nothing
        assert min(image.getpixel((200, 150))) > 230
    with Image.open(io.BytesIO(burned.thumbnail)) as thumbnail:
        assert max(thumbnail.getpixel((80, 56))) < 40


# Lines and find_private, without OCR ----------------------------------------------------


def line_of(text: str, *, y: int = 100) -> Line:
    """A line as Tesseract gives it: Chinese as single characters, other runs as words."""
    words, x = [], 10
    for part in _tesseract_split(text):
        width = 40 * len(part) if imaging._is_cjk(part[0]) else 20 * len(part)
        words.append(Word(part, (x, y, width, 40)))
        x += width + 10
    return Line.from_words(words)


def _tesseract_split(text: str) -> list[str]:
    parts = []
    for chunk in text.split():
        run = ""
        for char in chunk:
            if imaging._is_cjk(char):
                if run:
                    parts.append(run)
                    run = ""
                parts.append(char)
            else:
                run += char
        if run:
            parts.append(run)
    return parts


def word_box(line: Line, text: str) -> tuple[int, int, int, int]:
    start = line.text.index(text)
    return line.box(start, start + len(text))


def covers(outer, inner) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and outer[0] + outer[2] >= inner[0] + inner[2]
        and outer[1] + outer[3] >= inner[1] + inner[3]
    )


def test_line_joins_chinese_tightly_and_other_words_with_a_space():
    line = Line.from_words(
        [Word(text, (i * 50, 0, 40, 40)) for i, text in enumerate(["姓", "名", "：", "张", "三"])]
        + [
            Word("CEA", (300, 0, 60, 40)),
            Word("5.2", (400, 0, 40, 40)),
            Word("岁", (450, 0, 40, 40)),
        ]
    )

    assert line.text == "姓名：张三 CEA 5.2岁"
    assert line.word_of[line.text.index("C")] == 5
    assert line.word_of[line.text.index(" ")] is None
    assert line.box(3, 5) == (150, 0, 90, 40)


def test_find_private_finds_labelled_names_and_record_numbers():
    lines = [
        line_of("姓名：张三 性别：男 年龄：65岁", y=100),
        line_of("住院号 ： ZY20240318", y=200),
        line_of("Patient name: Zhang San Sex: M", y=300),
        line_of("MRN: 88812345", y=400),
        line_of("病理号P2024-01234", y=500),
    ]

    found = [(region.kind, region.text) for region in imaging.find_private(lines)]

    assert found == [
        ("name", "张三"),
        ("record_number", "ZY20240318"),
        ("name", "Zhang San"),
        ("record_number", "88812345"),
        ("record_number", "P2024-01234"),
    ]


def test_find_private_boxes_cover_the_value_words_only():
    line = line_of("姓名：张三 性别：男")

    [region] = imaging.find_private([line])

    assert covers(region.box, word_box(line, "张三"))
    label = word_box(line, "名")
    assert region.box[0] > label[0] + label[2] - 10


def test_find_private_finds_what_the_text_guard_finds():
    lines = [
        line_of("电话：13812345678", y=100),
        line_of("138 1234 5678", y=200),
        line_of("身份证号 11010519491231002X", y=300),
        line_of("邮箱 zhang.san@example.com", y=400),
    ]

    kinds = [region.kind for region in imaging.find_private(lines)]

    assert kinds == ["phone", "phone", "id_number", "email"]


def test_find_private_merges_overlapping_findings():
    # A labelled phone number is found both by its label and as a phone number.
    [region] = imaging.find_private([line_of("联系电话：13812345678")])

    assert (region.kind, region.text) == ("phone", "13812345678")


def test_find_private_reads_a_value_in_the_next_column():
    label, value = line_of("姓名", y=100), line_of("李四", y=102)
    value = Line.from_words([Word(w.text, (w.box[0] + 300, *w.box[1:])) for w in value.words])

    [region] = imaging.find_private([label, value])

    assert (region.kind, region.text) == ("name", "李四")
    assert covers(region.box, value.box(0, 2))


def test_find_private_leaves_results_and_ordinary_words_alone():
    lines = [
        line_of("CEA 5.2 ng/mL", y=100),
        line_of("CA19-9 12.3 U/mL 参考值 0-37", y=200),
        line_of("Drug name Oxaliplatin 130 mg/m2", y=300),
        line_of("ID: card", y=400),
        line_of("住院号：123", y=500),
    ]

    assert imaging.find_private(lines) == []


# OCR ------------------------------------------------------------------------------------

needs_ocr = pytest.mark.skipif(
    not imaging.ocr_available() or not FONT.exists(),
    reason="needs Tesseract with chi_sim and eng, and the Noto CJK font",
)
REPORT_SCALE = 0.75  # make_safe brings the 4000 px photo down to 3000 px


def report_photo() -> tuple[bytes, dict[str, tuple[float, float, float, float]]]:
    """A 4000 × 3000 photo of a report, and where each private value is drawn (x0, y0, x1, y1)."""
    image = Image.new("RGB", (4000, 3000), (236, 232, 222))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 72)
    title = ImageFont.truetype(str(FONT), 100)
    draw.text((1200, 150), "某某医院 检验报告单", font=title, fill=(20, 20, 20))
    drawn = {}
    rows = [
        ("姓名：", "张三", "      性别：男      年龄：65岁"),
        ("住院号：", "ZY20240318", ""),
        ("电话：", "13812345678", ""),
        ("", "CEA 5.2 ng/mL", "    参考值 0-5"),
        ("", "CA19-9 12.3 U/mL", ""),
    ]
    for row, (label, value, rest) in enumerate(rows):
        x, y = 400, 500 + row * 160
        for part in (label, value, rest):
            if part:
                draw.text((x, y), part, font=font, fill=(25, 25, 25))
                bbox = draw.textbbox((x, y), part, font=font)
                if part == value:
                    drawn[value] = tuple(v * REPORT_SCALE for v in bbox)
                x = bbox[2]
    image = image.filter(ImageFilter.GaussianBlur(1.2))  # a phone camera's softness
    return encode(image, quality=88), drawn


@pytest.fixture(scope="module")
def ocr_report():
    data, drawn = report_photo()
    safe = imaging.make_safe(data)
    started = time.perf_counter()
    lines = imaging.read_text(safe.image)
    seconds = time.perf_counter() - started
    return safe, lines, imaging.find_private(lines), drawn, seconds


def overlap_share(box, drawn) -> float:
    """How much of the drawn value's area the region's box covers."""
    x0, y0, x1, y1 = drawn
    width = max(0, min(x1, box[0] + box[2]) - max(x0, box[0]))
    height = max(0, min(y1, box[1] + box[3]) - max(y0, box[1]))
    return width * height / ((x1 - x0) * (y1 - y0))


@needs_ocr
@pytest.mark.parametrize(
    ("kind", "text"),
    [("phone", "13812345678"), ("name", "张三"), ("record_number", "ZY20240318")],
)
def test_ocr_finds_private_data_where_it_is_drawn(ocr_report, kind, text):
    _safe, _lines, regions, drawn, _seconds = ocr_report

    [region] = [region for region in regions if region.kind == kind]

    assert region.text == text
    assert overlap_share(region.box, drawn[text]) > 0.95


@needs_ocr
def test_ocr_leaves_the_results_alone(ocr_report, capsys):
    safe, lines, regions, drawn, seconds = ocr_report
    with capsys.disabled():
        print(f"\nread_text of the {safe.width}×{safe.height} safe image: {seconds:.2f} s")

    assert any("CEA" in line.text for line in lines)
    assert len(regions) == 3
    for value in ("CEA 5.2 ng/mL", "CA19-9 12.3 U/mL"):
        assert all(overlap_share(region.box, drawn[value]) == 0 for region in regions)


@needs_ocr
def test_burned_image_no_longer_shows_the_phone_number(ocr_report, capsys):
    safe, _lines, regions, _drawn, _seconds = ocr_report

    started = time.perf_counter()
    burned = imaging.burn(safe.image, [region.box for region in regions])
    elapsed = time.perf_counter() - started
    lines = imaging.read_text(burned.image)

    text = "\n".join(line.text for line in lines)
    assert "13812345678" not in text.replace(" ", "")
    assert not [f for line in lines for f in find_personal_data(line.text) if f.kind == "phone"]
    assert "phone" not in [region.kind for region in imaging.find_private(lines)]
    assert "CEA" in text
    with capsys.disabled():
        print(f"\nburn of the {burned.width}×{burned.height} image: {elapsed * 1000:.0f} ms")


def test_ocr_available_is_cached():
    assert imaging.ocr_available() is imaging.ocr_available()
    assert imaging.ocr_available.cache_info().hits >= 1
