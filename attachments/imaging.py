"""Make patients' photos of medical reports safe to show a physician.

Pure functions over bytes, in the order an upload meets them:
- `inspect(data, name=...)`, in the web request: decide the real type from the bytes
  (never the name), refuse anything but a plain photo (other types, markup hidden in the
  file, damaged files, decompression bombs) and render a PDF's pages to PNG images, so
  a PDF itself is never kept. Fast: a JPEG is decoded at 1/8 scale, nothing is OCRed.
- `make_safe(data)`, in the worker: re-encode as a plain sRGB JPEG, upright, at most
  MAX_SIDE pixels long, which drops EXIF (GPS), ICC profiles, comments and whatever was
  appended to the file; and make a thumbnail.
- `read_text(data)` and `find_private(lines)`: OCR the safe image and find where names,
  record numbers, phone and ID numbers and e-mail addresses are drawn.
- `burn(data, boxes)`: black those boxes out and re-encode.

Every refusal is an `ImageRefused` whose message can be shown to the patient as it is.
"""

import functools
import io
import math
import os
import re
import threading
from dataclasses import dataclass, field

import pillow_heif
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytesseract
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext_lazy
from PIL import Image, ImageCms, ImageDraw, ImageFile, ImageOps

from moderation.detectors import find_personal_data

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MIN_SIDE = 32
MAX_PDF_PAGES = 6
PDF_DPI = 150
PDF_MAX_SIDE = 3000
MAX_SIDE = 3000
THUMB_SIDE = 320
JPEG_QUALITY = 85

OCR_LANGUAGES = "chi_sim+eng"
# Automatic page segmentation keeps a form's label and value on one line; Sauvola's
# local thresholding reads grainy, unevenly lit phone photos that the default global
# threshold turns into nothing, at the same speed on clean ones.
OCR_CONFIG = "--psm 3 -c thresholding_method=2"
# Smaller images are upscaled before OCR: Tesseract misses characters only a dozen
# pixels high, which is what a chat app's compressed photo of a page gives.
OCR_MIN_SIDE = 2000
OCR_MAX_UPSCALE = 3.0
OCR_TIMEOUT = 180  # seconds; pytesseract raises RuntimeError past it

# Tesseract's OpenMP threads make it slower, not faster (measured: 2 cores, 3000 px
# photos), and workers run several at once.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")
# Only the first frame or primary image is used: skip what HEIC carries besides it.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heic": "HEIF"}
# Brands that promise an HEVC-coded image; "mif1" alone may be AVIF, which is not taken.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
# Markup a browser or PHP would run if the file were ever served as something else.
_MARKUP = re.compile(
    rb"<(?:!doctype|html|head|body|script|svg|iframe|object|embed|\?php)", re.IGNORECASE
)
# PDFium keeps global state and is not thread-safe.
_PDFIUM_LOCK = threading.Lock()


class ImageRefused(ValueError):
    """An upload that is not taken; `message` is written for the patient."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Upload:
    data: bytes
    kind: str  # "jpeg", "png", "webp", "heic"; a PDF's pages are "png"
    width: int  # as displayed, after the EXIF orientation
    height: int


@dataclass(frozen=True)
class Safe:
    image: bytes  # JPEG
    thumbnail: bytes  # JPEG
    width: int
    height: int


Box = tuple[int, int, int, int]  # left, top, width, height, in pixels


@dataclass(frozen=True)
class Word:
    text: str
    box: Box


@dataclass(frozen=True)
class Line:
    """A line of OCRed text, with the word that drew each of its characters."""

    text: str
    words: list[Word]
    # word_of[i] is the index in `words` of the word holding text[i], None for a joining space.
    word_of: tuple[int | None, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        word_of: list[int | None] = [None] * len(self.text)
        position = 0
        for index, word in enumerate(self.words):
            start = self.text.find(word.text, position)
            if start == -1:
                continue
            word_of[start : start + len(word.text)] = [index] * len(word.text)
            position = start + len(word.text)
        object.__setattr__(self, "word_of", tuple(word_of))

    @classmethod
    def from_words(cls, words: list[Word]) -> "Line":
        text = ""
        for word in words:
            if text and not _joins_tightly(text[-1], word.text[0]):
                text += " "
            text += word.text
        return cls(text, words)

    def box(self, start: int, end: int) -> Box | None:
        """The union of the boxes of the words drawing text[start:end]."""
        indexes = {i for i in self.word_of[start:end] if i is not None}
        if not indexes:
            return None
        return _union(*(self.words[i].box for i in indexes))


@dataclass(frozen=True)
class Region:
    kind: str  # "phone", "id_number", "email", "name", "record_number"
    text: str
    box: Box  # padded, may reach past the image's right and bottom edges


# Refusals -----------------------------------------------------------------------------


_MESSAGES = {
    "empty": _lazy("“%(name)s” is empty. Please choose the photo again."),
    "too_big": _lazy("“%(name)s” is larger than %(limit)s MB. Please send a smaller photo."),
    "type": _lazy(
        "“%(name)s” is not an image we can take: send a JPEG, PNG, WebP or HEIC photo, or a PDF."
    ),
    "markup": _lazy(
        "“%(name)s” contains more than a picture, so we can’t take it. "
        "Please send the photo itself."
    ),
    "damaged": _lazy("“%(name)s” is damaged or incomplete. Please send it again."),
    "too_many_pixels": _lazy(
        "“%(name)s” is too large (%(width)s × %(height)s pixels). Please send a smaller photo."
    ),
    "bomb": _lazy("“%(name)s” is too large to open. Please send a smaller photo."),
    "too_small": _lazy(
        "“%(name)s” is too small to read (%(width)s × %(height)s pixels). "
        "Please send a larger photo."
    ),
    "too_many_pages": ngettext_lazy(
        "“%(name)s” has %(count)s page; we can take up to %(limit)s. "
        "Please send only the pages your doctor needs.",
        "“%(name)s” has %(count)s pages; we can take up to %(limit)s. "
        "Please send only the pages your doctor needs.",
        "count",
    ),
    "password": _lazy(
        "“%(name)s” is protected by a password. Please send it without the password, "
        "or send photos of the pages."
    ),
}
# What the worker can meet, where the file's name is not known.
_NAMELESS_MESSAGES = {
    "type": _lazy("This file is not an image we can take."),
    "damaged": _lazy("This photo is damaged or incomplete. Please send it again."),
    "too_many_pixels": _lazy(
        "This photo is too large (%(width)s × %(height)s pixels). Please send a smaller photo."
    ),
    "bomb": _lazy("This photo is too large to open. Please send a smaller photo."),
    "too_small": _lazy(
        "This photo is too small to read (%(width)s × %(height)s pixels). "
        "Please send a larger photo."
    ),
}


def _refuse(code: str, name: str | None, **params) -> ImageRefused:
    """The refusal for `code`, in the active language, naming the file if its name is known."""
    messages = _MESSAGES if name is not None else _NAMELESS_MESSAGES
    return ImageRefused(messages[code] % {"name": name, **params}, code)


# Inspecting an upload -----------------------------------------------------------------


def inspect(data: bytes, *, name: str) -> list[Upload]:
    """Check an upload and return the images to keep: itself, or a PDF's pages as PNG.

    Raises ImageRefused, with a message for the patient, for anything else.
    """
    if not data:
        raise _refuse("empty", name)
    if len(data) > MAX_BYTES:
        raise _refuse("too_big", name, limit=MAX_BYTES // (1024 * 1024))
    kind = _sniff(data)
    if kind is None:
        raise _refuse("type", name)
    if kind == "pdf":
        # Never kept: only its rendered pages are, and markup cannot reach a rendering.
        return _render_pdf(data, name=name)
    if any(_MARKUP.search(data, start, end) for start, end in _outside_pixels(data, kind)):
        raise _refuse("markup", name)
    image, (width, height) = _open(data, kind, name=name, reduce=True)
    if _orientation(image) in (5, 6, 7, 8):
        width, height = height, width
    image.close()
    return [Upload(data, kind, width, height)]


def _sniff(data: bytes) -> str | None:
    """The type the bytes really are, from their magic numbers."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and _ftyp_brands(data) & _HEIC_BRANDS:
        return "heic"
    if data.startswith(b"%PDF-"):
        return "pdf"
    return None


def _ftyp_brands(data: bytes) -> set[bytes]:
    """The major and compatible brands of an ISO media file's leading ftyp box."""
    size = min(int.from_bytes(data[:4], "big"), len(data), 256)
    brands = {data[8:12]}
    brands.update(data[i : i + 4] for i in range(16, size - 3, 4))
    return brands


def _outside_pixels(data: bytes, kind: str) -> list[tuple[int, int]]:
    """The byte ranges to search for markup: all but the compressed pixel data.

    Compressed pixels are as good as random: over 10 MB "<svg" turns up by chance in
    about one file in fifty. Headers, metadata and anything after the image's end are
    all kept. A file whose structure cannot be followed is searched whole.
    """
    walk = {
        "jpeg": _jpeg_outside_pixels,
        "png": _png_outside_pixels,
        "webp": _webp_outside_pixels,
        "heic": _isobmff_outside_pixels,
    }[kind]
    try:
        return walk(data)
    except (IndexError, ValueError):
        return [(0, len(data))]


_JPEG_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _jpeg_outside_pixels(data: bytes, start: int = 0) -> list[tuple[int, int]]:
    """Every JPEG segment but the entropy-coded scans, and what follows the image."""
    ranges, position = [(start, start + 2)], start + 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise ValueError("not at a JPEG marker")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
        elif marker == 0xD9:  # end of image: the rest is appended, or the next MPO frame
            position += 2
            if data.startswith(b"\xff\xd8\xff", position):
                return ranges + _jpeg_outside_pixels(data, position)
            return [*ranges, (position, len(data))]
        elif 0xD0 <= marker <= 0xD7 or marker == 0x01:
            position += 2
        else:
            end = position + 2 + int.from_bytes(data[position + 2 : position + 4], "big")
            ranges.append((position, end))
            position = end
            if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker
                following = _JPEG_NEXT_MARKER.search(data, position)
                position = following.start() if following else len(data)
    return [*ranges, (position, len(data))]


def _png_outside_pixels(data: bytes) -> list[tuple[int, int]]:
    """Every PNG chunk but the pixel data's, and what follows the end chunk."""
    ranges, position = [(0, 8)], 8
    while position + 12 <= len(data):
        kind = data[position + 4 : position + 8]
        end = position + 12 + int.from_bytes(data[position : position + 4], "big")
        ranges.append((position, position + 8) if kind in (b"IDAT", b"fdAT") else (position, end))
        position = end
        if kind == b"IEND":
            break
    return [*ranges, (position, len(data))]


def _webp_outside_pixels(data: bytes) -> list[tuple[int, int]]:
    """Every WebP chunk but the coded frames, and what follows the RIFF container."""
    ranges, position = [(0, 12)], 12
    container_end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    while position + 8 <= container_end:
        kind = data[position : position + 4]
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        end = position + 8 + size + (size & 1)
        pixels = kind in (b"VP8 ", b"VP8L", b"ALPH", b"ANMF")
        ranges.append((position, position + 8) if pixels else (position, end))
        position = end
    return [*ranges, (min(position, container_end), len(data))]


def _isobmff_outside_pixels(data: bytes) -> list[tuple[int, int]]:
    """Every top-level HEIF box but the media data's."""
    ranges, position = [], 0
    while position + 8 <= len(data):
        size, header = int.from_bytes(data[position : position + 4], "big"), 8
        if size == 1:
            size, header = int.from_bytes(data[position + 8 : position + 16], "big"), 16
        elif size == 0:
            size = len(data) - position
        if size < header:
            raise ValueError("impossible box size")
        end = position + size
        mdat = data[position + 4 : position + 8] == b"mdat"
        ranges.append((position, position + header) if mdat else (position, end))
        position = end
    return [*ranges, (position, len(data))]


def _require_strict_loading() -> None:
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Truncated uploads would pass as whole ones, padded with grey.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False.")


def _open(
    data: bytes, kind: str, *, name: str | None, reduce: bool, fit: int = 0
) -> tuple[Image.Image, tuple[int, int]]:
    """The image decoded completely and its stored size; bombs, tiny and damaged refused.

    `reduce` decodes a JPEG at 1/8 scale (it still reads the whole stream, so
    truncation shows); `fit` decodes it at the smallest scale keeping its long side
    at least `fit` pixels.
    """
    _require_strict_loading()
    try:
        image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[kind]])
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise _refuse("too_many_pixels", name, width=width, height=height)
        if min(width, height) < MIN_SIDE:
            raise _refuse("too_small", name, width=width, height=height)
        if kind == "jpeg" and reduce:
            image.draft(None, (max(1, width // 8), max(1, height // 8)))
        elif kind == "jpeg" and fit and max(width, height) > fit:
            ratio = max(width, height) / fit
            image.draft(None, (math.ceil(width / ratio), math.ceil(height / ratio)))
        image.load()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limit, met before ours when warnings are errors or past 2× its limit.
        raise _refuse("bomb", name) from None
    except Exception:  # noqa: BLE001 - Pillow's decoders raise many types on hostile bytes
        raise _refuse("damaged", name) from None
    return image, (width, height)


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block only loses the orientation
        return 1


def _render_pdf(data: bytes, *, name: str) -> list[Upload]:
    """Each page of the PDF as a PNG, at PDF_DPI with its long side at most PDF_MAX_SIDE."""
    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as error:
            if error.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
                raise _refuse("password", name) from None
            raise _refuse("damaged", name) from None
        try:
            count = len(pdf)
            if count == 0:
                raise _refuse("damaged", name)
            if count > MAX_PDF_PAGES:
                raise _refuse("too_many_pages", name, count=count, limit=MAX_PDF_PAGES)
            pdf.init_forms()  # so that filled-in form fields are drawn
            return [_render_page(pdf, index, name=name) for index in range(count)]
        except ImageRefused:
            raise
        except Exception:  # noqa: BLE001 - PDFium's failures on a broken page vary
            raise _refuse("damaged", name) from None
        finally:
            pdf.close()


def _render_page(pdf, index: int, *, name: str) -> Upload:
    page = pdf[index]
    try:
        width, height = page.get_size()
        if min(width, height) <= 0:
            raise _refuse("damaged", name)
        scale = min(PDF_DPI / 72, PDF_MAX_SIDE / max(width, height))
        bitmap = page.render(scale=scale, may_draw_forms=True)
        image = bitmap.to_pil().convert("RGB")
        bitmap.close()
    finally:
        page.close()
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return Upload(buffer.getvalue(), "png", image.width, image.height)


# Making an image safe -----------------------------------------------------------------


def make_safe(data: bytes) -> Safe:
    """Re-encode an accepted image as a plain JPEG with a thumbnail; nothing else survives.

    Upright (EXIF orientation applied), sRGB, alpha flattened onto white, long side at
    most MAX_SIDE. Raises ImageRefused if the image cannot be decoded after all.
    """
    return _encode(_prepare(data, fit=MAX_SIDE))


def burn(data: bytes, boxes: list[Box]) -> Safe:
    """Fill each box with black and re-encode; boxes are clamped, empty ones ignored."""
    image = _prepare(data)
    draw = ImageDraw.Draw(image)
    for left, top, width, height in boxes:
        x0, y0 = max(0, left), max(0, top)
        x1, y1 = min(image.width, left + width), min(image.height, top + height)
        if x1 > x0 and y1 > y0:
            draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=(0, 0, 0))
    return _encode(image)


def _prepare(data: bytes, *, fit: int = 0) -> Image.Image:
    """The image decoded, upright, in sRGB, flattened onto white, as RGB."""
    kind = _sniff(data)
    if kind is None or kind == "pdf":
        raise _refuse("type", None)
    image, _size = _open(data, kind, name=None, reduce=False, fit=fit)
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a broken EXIF block only loses the orientation
        upright = image.copy()
    image.close()
    return _to_srgb(upright)


def _to_srgb(image: Image.Image) -> Image.Image:
    icc_profile = image.info.get("icc_profile")
    if image.mode in ("P", "PA"):
        image = image.convert("RGBA")
    elif image.mode == "1":
        image = image.convert("L")
    elif image.mode.startswith("I"):  # 16-bit greyscale PNG
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    alpha = None
    if "A" in image.getbands():
        alpha = image.getchannel("A")
        image = image.convert("L" if image.mode == "LA" else "RGB")
    if icc_profile:
        try:
            image = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGB",
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken or mismatched profile: the pixels are taken as sRGB
    image = image.convert("RGB")
    if alpha is not None:
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=alpha)
        image = background
    return image


def _encode(image: Image.Image) -> Safe:
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    thumbnail = image.copy()
    thumbnail.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return Safe(_jpeg(image), _jpeg(thumbnail), image.width, image.height)


def _jpeg(image: Image.Image) -> bytes:
    # Pillow writes a comment, and more in later versions, from info unless told otherwise.
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


# Reading text -------------------------------------------------------------------------


@functools.cache
def ocr_available() -> bool:
    """Whether Tesseract is installed with Simplified Chinese and English."""
    try:
        languages = set(pytesseract.get_languages())
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError):
        return False
    return {"chi_sim", "eng"} <= languages


def read_text(data: bytes) -> list[Line]:
    """The lines of text in an image, each word boxed in the image's own pixels.

    Raises RuntimeError if Tesseract takes longer than OCR_TIMEOUT.
    """
    image = _prepare(data).convert("L")
    scale = 1.0
    if max(image.size) < OCR_MIN_SIDE:
        scale = min(OCR_MAX_UPSCALE, OCR_MIN_SIDE / max(image.size))
        size = (round(image.width * scale), round(image.height * scale))
        image = image.resize(size, Image.Resampling.LANCZOS)
    table = pytesseract.image_to_data(
        image,
        lang=OCR_LANGUAGES,
        config=OCR_CONFIG,
        output_type=pytesseract.Output.DICT,
        timeout=OCR_TIMEOUT,
    )
    lines: dict[tuple[int, int, int, int], list[Word]] = {}
    for i, text in enumerate(table["text"]):
        text = text.strip()
        if table["level"][i] != 5 or not text or float(table["conf"][i]) < 0:
            continue
        box = tuple(round(table[key][i] / scale) for key in ("left", "top", "width", "height"))
        key = tuple(table[key][i] for key in ("page_num", "block_num", "par_num", "line_num"))
        lines.setdefault(key, []).append(Word(text, box))
    return [Line.from_words(_reread_names(image, scale, words)) for words in lines.values()]


def _reread_names(image: Image.Image, scale: float, words: list[Word]) -> list[Word]:
    """Words after a name label read again as Chinese where they came out as Latin.

    With English loaded too, Tesseract often takes a two-character Chinese name, which
    no dictionary context supports, for Latin letters ("张三" as "KS"). The words are
    still boxed where the name is; reading the crop in Chinese alone gets it right.
    """
    words = list(words)
    for index in range(1, len(words)):
        if not _NAME_LABEL_AT_END.search("".join(word.text for word in words[:index])):
            continue
        # The name and, as often, the next label: each word is cropped on its own.
        for at in range(index, min(index + 2, len(words))):
            if not _looks_latin(words[at]):
                break
            left, top, width, height = (round(v * scale) for v in words[at].box)
            pad = max(4, height // 3)
            crop = image.crop(
                (
                    max(0, left - pad),
                    max(0, top - pad),
                    min(image.width, left + width + pad),
                    min(image.height, top + height + pad),
                )
            )
            text = pytesseract.image_to_string(
                crop, lang="chi_sim", config="--psm 7", timeout=OCR_TIMEOUT
            )
            text = "".join(text.split())
            if any(_is_cjk(c) for c in text) and not any(c.isascii() and c.isalpha() for c in text):
                words[at] = Word(text, words[at].box)
    return words


def _looks_latin(word: Word) -> bool:
    return not any(_is_cjk(char) for char in word.text) and any(c.isalpha() for c in word.text)


def _is_cjk(char: str) -> bool:
    """Chinese characters and CJK or full-width punctuation (。，：（）)."""
    code = ord(char)
    return (
        0x3400 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x3000 <= code <= 0x303F
        or 0xFF00 <= code <= 0xFFEF
        or 0x20000 <= code <= 0x2FFFF
    )


def _joins_tightly(left: str, right: str) -> bool:
    """Whether two OCR words meet without a space: Chinese is written without them."""
    return (_is_cjk(left) and (_is_cjk(right) or right.isdigit())) or (
        left.isdigit() and _is_cjk(right)
    )


# Finding private data -----------------------------------------------------------------

_NAME_LABEL_AT_END = re.compile(r"(?:姓名|患者|病人|受检者|就诊人)\s*[:：]?\s*$")
_CJK_NAME = r"[\u4e00-\u9fff]{1,4}(?:[·•][\u4e00-\u9fff]{1,6})?"
_LATIN_NAME = r"[A-Za-z][A-Za-z'’.-]*(?:[ ,]+[A-Za-z][A-Za-z'’.-]*){0,2}"
_RECORD = r"[A-Za-z0-9][A-Za-z0-9-]{3,}(?: (?=[A-Za-z-]*[0-9])[A-Za-z0-9-]+)*"
_PHONE = r"\+?[0-9][0-9 ()-]{5,}[0-9]"
_ID = r"[0-9][0-9 ]{13,20}[0-9Xx]"
_COLON = r"\s*(?P<colon>[:：])?\s*"

# Each: the kind found, the labels, the value, and whether a Latin label needs a
# colon or the start of the line (so that "Drug name Oxaliplatin" is left alone).
_LABELLED = [
    (
        "name",
        re.compile(
            r"(?P<label>患者姓名|病人姓名|姓名|(?:患者|病人|受检者|就诊人)(?=\s*[:：])"
            r"|\b(?:patient'?s?\s*name|full\s*name|name)\b)"
            + _COLON
            + rf"(?P<value>{_CJK_NAME}|{_LATIN_NAME})?",
            re.IGNORECASE,
        ),
        True,
    ),
    (
        "record_number",
        re.compile(
            r"(?P<label>住院号|门诊号|病案号|病历号|就诊卡号|就诊号|登记号|病理号|检查号|影像号"
            r"|标本号|条码号|申请单号|卡号|ID号"
            r"|\b(?:patient\s*id|hospital\s*no\b\.?|mrn|case\s*no\b\.?|id(?:\s*no\b\.?)?)\b)"
            + _COLON
            + rf"(?P<value>(?=[A-Za-z-]*[0-9]){_RECORD})?",
            re.IGNORECASE,
        ),
        False,
    ),
    (
        "phone",
        re.compile(
            r"(?P<label>联系电话|电话|手机|联系方式|\b(?:tel|phone|mobile)\b\.?)"
            + _COLON
            + rf"(?P<value>{_PHONE})?",
            re.IGNORECASE,
        ),
        False,
    ),
    (
        "id_number",
        re.compile(
            r"(?P<label>身份证号码|身份证号|身份证|证件号码|证件号)"
            + _COLON
            + rf"(?P<value>{_ID})?",
            re.IGNORECASE,
        ),
        False,
    ),
]
# Where a name's value stops: the next label on the same line.
_NAME_STOP = re.compile(
    r"性别|性|年龄|男|女|科室|床号|病区|住院|门诊|病案|病历|就诊|登记|电话|手机|联系|身份|民族"
    r"|职业|婚姻|出生|地址|送检|标本|日期|医生|医师|临床|诊断|检查|申请|报告|籍贯|病理"
    r"|\b(?:sex|gender|age|dob|birth|id|mrn|tel|phone|ward|bed|dept|department|date|hospital"
    r"|patient|no)\b",
    re.IGNORECASE,
)
_KIND_ORDER = ("id_number", "phone", "email", "record_number", "name")


def find_private(lines: list[Line]) -> list[Region]:
    """Where an image shows personal data, from its OCRed lines.

    What the text guard finds (phone and resident ID numbers, e-mail addresses) and
    the values after labels such as 姓名, 住院号 or Patient ID. A label ending its line
    takes its value from the line just to its right, as in a form's table.
    """
    found = []
    for index, line in enumerate(lines):
        spans = [(f.start, f.end, f.kind) for f in find_personal_data(line.text)]
        for kind, pattern, latin_needs_colon in _LABELLED:
            for match in pattern.finditer(line.text):
                latin = match.group("label").isascii()
                if latin and latin_needs_colon and not match.group("colon") and match.start():
                    continue
                value = match.group("value")
                if value is not None:
                    start, end = _trim(kind, value, match.start("value"))
                    if end > start:
                        spans.append((start, end, kind))
                elif not line.text[match.end() :].strip():
                    found += _value_to_the_right(lines, index, match, pattern, kind)
        found += _regions(line, spans)
    return _merge_overlapping(found)


def _merge_overlapping(regions: list[Region]) -> list[Region]:
    """One region where two mostly overlap: a value found from its label and by itself."""
    merged: list[Region] = []
    for region in regions:
        for i, kept in enumerate(merged):
            if _overlap(region.box, kept.box) >= 0.5:
                kind = min(region.kind, kept.kind, key=_KIND_ORDER.index)
                text = kept.text if len(kept.text) >= len(region.text) else region.text
                merged[i] = Region(kind, text, _union(region.box, kept.box))
                break
        else:
            merged.append(region)
    return merged


def _overlap(a: Box, b: Box) -> float:
    """The intersection's share of the smaller box."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    return width * height / max(1, min(a[2] * a[3], b[2] * b[3]))


def _union(*boxes: Box) -> Box:
    left = min(b[0] for b in boxes)
    top = min(b[1] for b in boxes)
    right = max(b[0] + b[2] for b in boxes)
    bottom = max(b[1] + b[3] for b in boxes)
    return left, top, right - left, bottom - top


def _trim(kind: str, value: str, start: int) -> tuple[int, int]:
    """The span of a label's value, cut short of the next label for names."""
    if kind == "name" and (stop := _NAME_STOP.search(value)):
        value = value[: stop.start()]
    value = value.rstrip(" ,.-")
    return start, start + len(value)


def _value_to_the_right(lines, index, match, pattern, kind) -> list[Region]:
    label_box = lines[index].box(match.start("label"), match.end("label"))
    if label_box is None:
        return []
    left, top, width, height = label_box
    middle = top + height / 2
    candidates = []
    for other in lines[:index] + lines[index + 1 :]:
        if not other.words:
            continue
        first = other.words[0].box
        gap = first[0] - (left + width)
        if first[1] <= middle <= first[1] + first[3] and -height / 2 <= gap <= 8 * height:
            candidates.append((gap, other))
    if not candidates:
        return []
    other = min(candidates, key=lambda candidate: candidate[0])[1]
    label = match.group("label")
    # The label again in front, so the value pattern reads the line as if it followed.
    joined = label + ("" if _joins_tightly(label[-1], other.text[0]) else " ") + other.text
    found = pattern.match(joined)
    if not found or found.group("value") is None:
        return []
    offset = len(joined) - len(other.text)
    start, end = _trim(kind, found.group("value"), found.start("value") - offset)
    return _regions(other, [(start, end, kind)]) if end > start else []


def _regions(line: Line, spans: list[tuple[int, int, str]]) -> list[Region]:
    """Overlapping spans merged, each as a padded box; the most specific kind names it."""
    merged: list[list] = []
    for start, end, kind in sorted(spans):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            last[2] = min(last[2], kind, key=_KIND_ORDER.index)
        else:
            merged.append([start, end, kind])
    regions = []
    for start, end, kind in merged:
        box = line.box(start, end)
        if box is None:
            continue
        left, top, width, height = box
        pad = max(4, round(height * 0.15))
        right, bottom = left + width + pad, top + height + pad
        left, top = max(0, left - pad), max(0, top - pad)
        box = (left, top, right - left, bottom - top)
        regions.append(Region(kind, line.text[start:end].strip(), box))
    return regions
