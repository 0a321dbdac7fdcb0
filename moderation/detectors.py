"""What in a text holds it for review: personal data, links, listed words, emergencies.

Pure functions over text, shared by the forms (to warn before posting), the
services (to decide a post's state) and the queue (to highlight findings).
"""

import re
from dataclasses import dataclass

import phonenumbers
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Finding:
    kind: str  # "phone", "id_number", "email", "link", "term"
    text: str
    start: int
    end: int

    @property
    def explanation(self) -> str:
        return {
            "phone": _("looks like a phone number"),
            "id_number": _("looks like a resident ID number"),
            "email": _("looks like an e-mail address"),
            "link": _("is a link"),
            "term": _("is on the moderators' word list"),
        }[self.kind]


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECKS = "10X98765432"
_ID_NUMBER = re.compile(
    r"(?<![0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9])"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_LINK = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]]+", re.IGNORECASE)
# Mainland mobile numbers written with spaces or dashes between groups of digits.
_SPACED_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])")

EMERGENCY_WORDS = (
    # English
    "vomiting blood",
    "coughing up blood",
    "black stool",
    "heavy bleeding",
    "bleeding heavily",
    "can't breathe",
    "cannot breathe",
    "difficulty breathing",
    "short of breath",
    "chest pain",
    "unconscious",
    "fainted",
    "passed out",
    "seizure",
    "suicide",
    "kill myself",
    "end my life",
    "severe pain",
    "high fever",
    # 中文
    "吐血",
    "呕血",
    "便血",
    "黑便",
    "大出血",
    "出血不止",
    "呼吸困难",
    "喘不上气",
    "胸痛",
    "昏迷",
    "晕倒",
    "抽搐",
    "自杀",
    "不想活",
    "轻生",
    "剧痛",
    "疼得受不了",
    "高烧",
    "高热",
)


def _valid_id_number(number: str) -> bool:
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECKS[total % 11] == number[17].upper()


def find_personal_data(text: str) -> list[Finding]:
    """Phone numbers, resident ID numbers (check digit verified) and e-mail addresses."""
    findings = []
    id_spans = []
    for match in _ID_NUMBER.finditer(text):
        if _valid_id_number(match.group(0)):
            findings.append(Finding("id_number", match.group(0), match.start(), match.end()))
            id_spans.append(range(match.start(), match.end()))
    for match in phonenumbers.PhoneNumberMatcher(text, "CN", leniency=phonenumbers.Leniency.VALID):
        if any(match.start in span for span in id_spans):
            continue
        findings.append(Finding("phone", match.raw_string, match.start, match.end))
    for match in _SPACED_MOBILE.finditer(text):
        if not any(f.start <= match.start() < f.end for f in findings):
            findings.append(Finding("phone", match.group(0), match.start(), match.end()))
    findings += [Finding("email", m.group(0), m.start(), m.end()) for m in _EMAIL.finditer(text)]
    return sorted(findings, key=lambda finding: finding.start)


def find_links(text: str) -> list[Finding]:
    return [Finding("link", m.group(0), m.start(), m.end()) for m in _LINK.finditer(text)]


def find_terms(text: str, terms: list[str]) -> list[Finding]:
    lowered = text.lower()
    findings = []
    for term in terms:
        needle = term.lower()
        start = lowered.find(needle)
        while needle and start != -1:
            findings.append(
                Finding("term", text[start : start + len(needle)], start, start + len(needle))
            )
            start = lowered.find(needle, start + len(needle))
    return findings


def has_emergency_words(text: str) -> bool:
    lowered = (text or "").lower()
    return any(word in lowered for word in EMERGENCY_WORDS)


def highlight(text: str, findings: list[Finding]) -> str:
    """The text escaped, each finding in a <mark> naming what it looks like."""
    parts, last = [], 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < last:
            continue
        parts.append(escape(text[last : finding.start]))
        parts.append(
            f'<mark title="{escape(finding.explanation)}">{escape(text[finding.start : finding.end])}</mark>'
        )
        last = finding.end
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece of the text is escaped above
