"""Every page, rendered in Chinese for each kind of person, shows no English interface text.

The pages are walked from the URL map with real objects behind every
parameter. Each page's text is searched for the English of every message the
site can show (its own catalogue, allauth's and the Django forms' and
validators'); user content in the walk is Chinese, so any English found is
interface text someone forgot to translate.
"""

import re
from datetime import timedelta
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import allauth
import django
import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from babel.messages.pofile import read_po
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation

from accounts.models import User
from accounts.services import physician_apply
from forum import services as forum
from forum.models import Category, Question
from moderation import services as moderation
from moderation.models import Case
from notifications.models import Verb
from notifications.services import unsubscribe_token
from salon import services as salon
from salon.models import Event

# Every message the pages can show, in the catalogues that list all of them:
# the site's own, and the English ones of allauth and Django (their Chinese
# catalogues leave out what they have not translated).
PO_FILES = {
    "ours": Path(settings.BASE_DIR) / "locale/zh_Hans/LC_MESSAGES/django.po",
    "allauth": Path(allauth.__file__).parent / "locale/en/LC_MESSAGES/django.po",
    "django": Path(django.__file__).parent / "conf/locale/en/LC_MESSAGES/django.po",
    "django.auth": Path(django.__file__).parent / "contrib/auth/locale/en/LC_MESSAGES/django.po",
}
# Parts of allauth the site does not install; the parts of Django that reach
# its pages (the admin keeps its own translations).
ALLAUTH_NOT_INSTALLED = tuple(
    f"{folder}{app}/"
    for app in ("mfa", "socialaccount", "usersessions", "headless", "idp")
    for folder in ("", "templates/")
)
DJANGO_SHOWN = ("forms/", "db/models/", "core/validators.py", "contrib/auth/password_validation.py")
PLACEHOLDER = re.compile(r"%\([^)]*\)[sdif]|%[sdif]|\{[a-z_0-9]*\}|<[^>]+>|\n")
# Left between placeholders, these say nothing about a page's language.
TOO_SMALL = {"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to"}
LINKS = re.compile(r"\S+@\S+|https?://\S+")


def _shown(source: str, places: list[str]) -> bool:
    if source == "allauth":
        return not all(place.startswith(ALLAUTH_NOT_INSTALLED) for place in places)
    if source.startswith("django"):
        return any(place.startswith(DJANGO_SHOWN) for place in places)
    return True


def _in_chinese(message) -> tuple[str, ...]:
    """What Chinese readers get for a message: the translation in force, overrides included."""
    with translation.override("zh-hans"):
        if isinstance(message.id, tuple):
            singular, plural = message.id
            if message.context:
                return (translation.npgettext(message.context, singular, plural, 1),)
            return (translation.ngettext(singular, plural, 1),)
        if message.context:
            return (translation.pgettext(message.context, message.id),)
        return (translation.gettext(message.id),)


@lru_cache(maxsize=1)
def shown_messages() -> list:
    """Every message of the catalogues that the site's pages can show."""
    shown = []
    for source, path in PO_FILES.items():
        with path.open("rb") as po_file:
            catalogue = read_po(po_file)
        for message in catalogue:
            places = [location for location, _line in message.locations]
            if message.id and _shown(source, places):
                shown.append(message)
    return shown


def _ids(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


@lru_cache(maxsize=1)
def message_fragments() -> dict[str, str]:
    """English fragment → the message it comes from, for every message pages can show.

    A message is cut at its placeholders and markup. A fragment its Chinese
    translation keeps on purpose (a drug name, "HIPEC") is not English to
    find; an untranslated message's fragments all are.
    """
    fragments = {}
    for message in shown_messages():
        ids = _ids(message)
        chinese = " ".join(_in_chinese(message))
        translated = chinese not in ids
        for text in ids:
            for fragment in PLACEHOLDER.split(text):
                fragment = " ".join(fragment.split()).strip(" .,:;()·-–—")
                if (
                    re.search(r"[A-Za-z]{2}", fragment)
                    and fragment.lower() not in TOO_SMALL
                    and not (translated and fragment in chinese)
                ):
                    fragments.setdefault(fragment, text)
    return fragments


@lru_cache(maxsize=1)
def _finder() -> re.Pattern:
    fragments = sorted(message_fragments(), key=len, reverse=True)
    return re.compile(r"(?<![A-Za-z])(?:" + "|".join(map(re.escape, fragments)) + r")(?![A-Za-z])")


class _PageText(HTMLParser):
    """The text a reader meets: text nodes and the attributes read aloud or shown.

    Scripts, styles, form values (people's own text) and anything marked as
    another language (the language switcher's "English") are left out.
    """

    SKIP = {"script", "style", "textarea"}
    SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[bool] = []  # per open element: is its text left out?
        self.language = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        hidden = bool(self.stack and self.stack[-1])
        lang = attrs.get("lang")
        if tag == "html":
            self.language = lang or ""
        elif tag in self.SKIP or (lang and lang != self.language):
            hidden = True
        if not hidden:
            for name, value in attrs.items():
                if value and (name in self.SHOWN_ATTRIBUTES or name.endswith("-text")):
                    self.parts.append(value)
            if tag == "input" and attrs.get("type") in {"submit", "button"} and attrs.get("value"):
                self.parts.append(attrs["value"])
        if tag not in self.VOID:
            self.stack.append(hidden)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]) and data.strip():
            self.parts.append(data)


def english_in(html: str) -> set[str]:
    """The English interface messages found in a page."""
    parser = _PageText()
    parser.feed(html)
    text = LINKS.sub(" ", "\n".join(" ".join(part.split()) for part in parser.parts))
    fragments = message_fragments()
    return {fragments[match.group(0)] for match in _finder().finditer(text)}


class Site:
    """One of everything a page can show, written by people with Chinese names."""

    def __init__(self, user_factory, doctor_factory):
        self.patient = user_factory(name="张伟")
        self.other = user_factory(name="刘芳")
        self.doctor = doctor_factory(name="王军")
        self.moderator = user_factory(role=User.Role.MODERATOR, name="林版主")
        self.applicant = user_factory(name="陈医生")
        category = Category.objects.get(slug="colorectal-cancer")
        self.question = forum.question_create(
            author=self.patient,
            title="化疗后手脚麻木，多久能恢复？",
            body="我做了六个周期的奥沙利铂化疗，现在手脚还是麻木，想问问医生这正常吗？",
            category=category,
            tags=["chemotherapy"],
            asker=Question.Asker.SELF,
            stage=Question.Stage.STAGE_3,
            treatment=Question.Treatment.CHEMOTHERAPY,
            regimen="XELOX",
            cycle=6,
        )
        self.answer = forum.answer_create(
            question=self.question,
            author=self.doctor,
            body="奥沙利铂引起的麻木通常在停药后六到十二个月内逐渐减轻，请注意保暖。",
        )
        self.reply = forum.reply_create(
            question=self.question,
            answer=self.answer,
            author=self.patient,
            body="谢谢医生，很有帮助。",
        )
        same_here = forum.reply_create(
            question=self.question, author=self.other, body="我也有同样的情况，加我微信聊。"
        )
        forum.answer_thank(answer=self.answer, user=self.other)
        forum.answer_accept(answer=self.answer, user=self.patient)
        # Linked by the physician to the answered question: its page shows the notice.
        self.duplicate = forum.question_create(
            author=self.other,
            title="奥沙利铂化疗后手指发麻正常吗？",
            body="我爸爸做完第四次奥沙利铂化疗，手指一直发麻，这种情况正常吗？",
            category=category,
        )
        with translation.override("zh-hans"):  # the audit log keeps the physician's language
            forum.question_duplicate_mark(
                question=self.duplicate, original=self.question, by=self.doctor
            )
        # The physician is on duty today for the topic: their home leads with it.
        from duty.models import Shift, TumourGroup
        from duty.services import department_day

        Shift.objects.create(
            group=TumourGroup.objects.get(category=category),
            day=department_day(),
            physician=self.doctor,
        )
        # Photos of reports: one shared, one waiting for its author to cover a
        # number, one waiting for a moderator.
        from tests.attachments.conftest import processed

        self.shared_image = processed(self.question)[0]
        self.covering = processed(self.question, state="needs_cover", findings=["phone"])[0]
        self.reviewed = processed(self.question, state="review")[0]
        moderation.case_open_for_review(target=self.reviewed, reasons=["no_ocr"])
        # Held for the personal data in it: one stays in the queue, one is redacted.
        held = "请打电话给我 13812345678，我想详细咨询一下化疗期间的饮食安排。"
        self.held = forum.question_create(
            author=self.other, title="化疗期间的饮食需要注意什么？", body=held, category=category
        )
        redacted = forum.question_create(
            author=self.other, title="手术以后多久需要去医院复查？", body=held, category=category
        )
        # What a moderator writes (the audit log's entries) is kept in their
        # language; these moderators work in Chinese.
        with translation.override("zh-hans"):
            moderation.case_redact_and_approve(
                case_id=self._case_for(redacted).pk,
                moderator=self.moderator,
                body="我想详细咨询一下化疗期间的饮食安排。",
                title="手术以后多久需要复查一次？",
            )
            moderation.post_flag(post=same_here, user=self.patient, reason="spam")
            moderation.case_redact_and_approve(
                case_id=self._case_for(same_here).pk,
                moderator=self.moderator,
                body="我也有同样的情况。",
            )
            moderation.blocked_term_add(term="广告", moderator=self.moderator)
        moderation.post_flag(post=self.reply, user=self.other, reason="spam")
        physician_apply(
            user=self.applicant,
            title="attending",
            hospital="Peking Union Medical College Hospital",
            hospital_zh="北京协和医院",
            department="Department of Oncology",
            department_zh="肿瘤内科",
            licence_number="110101-0009",
            specialties=[category],
        )
        now = timezone.now()
        self.event = salon.event_create(
            organiser=self.moderator,
            title="化疗期间怎么吃",
            description="营养师和医生一起讲讲化疗期间的饮食。",
            starts_at=now + timedelta(days=3),
            ends_at=now + timedelta(days=3, hours=2),
            location="门诊楼三楼302室",
            capacity=2,
            state=Event.State.PUBLISHED,
            hosts=[self.doctor],
            category=category,
        )
        salon.rsvp_create(event=self.event, user=self.patient)
        self.live = salon.event_create(
            organiser=self.moderator,
            title="靶向治疗在线答疑",
            description="在线解答靶向治疗的常见问题。",
            starts_at=now + timedelta(minutes=1),
            ends_at=now + timedelta(hours=2),
            is_online=True,
            online_url="https://meeting.example.com/shukang",
            capacity=50,
            state=Event.State.PUBLISHED,
            hosts=[self.doctor],
            category=category,
        )
        salon.rsvp_create(event=self.live, user=self.patient)
        Event.objects.filter(pk=self.live.pk).update(starts_at=now - timedelta(minutes=30))
        self.live_question = salon.live_question_create(
            event=self.live, author=self.patient, body="靶向药一般需要连续吃多久？"
        )
        self._mdt(category)
        unverified = EmailAddress.objects.create(
            user=self.other, email="liu.second@example.com", verified=False
        )
        self.confirmation_key = EmailConfirmationHMAC(unverified).key

    def _mdt(self, category) -> None:
        """Two MDT cases on the question: one agreed and shown there, one waiting for consent."""
        from accounts.models import Discipline
        from mdt import services as mdt
        from mdt.models import Consent

        disciplines = {item.slug: item for item in Discipline.objects.all()}
        profile = self.doctor.physician_profile
        profile.discipline = disciplines["medical-oncology"]
        profile.save()
        surgeon = User.objects.get(pk=self._surgeon(disciplines["surgical-oncology"]).pk)
        now = timezone.now()
        self.mdt_session = mdt.session_save(
            user=self.doctor,
            values={
                "title": "神经内分泌肿瘤MDT",
                "starts_at": now + timedelta(days=2),
                "ends_at": now + timedelta(days=2, hours=2),
                "submission_deadline": now + timedelta(days=1),
                "location": "门诊楼五楼会议室",
                "chair": self.doctor,
                "recorder": surgeon,
            },
            invited=[surgeon],
        )
        summary = {
            "title": "胰腺神经内分泌肿瘤，G2",
            "tumour_site": "胰尾，肝内两处转移",
            "histology": "高分化神经内分泌肿瘤",
            "grade": "G2，Ki-67 8%",
            "stage": "IV期",
            "functional_status": "无功能性；ECOG 0分",
            "prior_treatments": "第0个月确诊；第2个月开始长效奥曲肽治疗。",
            "imaging": "生长抑素受体显像：原发灶及肝转移灶均摄取。",
            "pathology": "突触素、嗜铬粒蛋白A阳性。",
            "labs": "嗜铬粒蛋白A升高。",
            "board_question": "先手术切除，还是先做PRRT？",
        }
        needed = [disciplines["medical-oncology"], disciplines["surgical-oncology"]]
        consensus = {
            "recommendation": "先切除原发灶，再行PRRT。",
            "rationale": "原发灶可切除，肝转移灶摄取良好。",
            "references": "ENETS 2023",
            "dissent": "无",
            "summary_zh": "建议先手术，再针对肝脏病灶做PRRT治疗。",
            "summary_en": "",
        }
        agreed = mdt.case_open(
            owner=self.doctor, values=summary, disciplines=needed, question=self.question
        )
        mdt.consent_decide(consent=Consent.objects.get(case=agreed), user=self.patient, give=True)
        mdt.case_schedule(case=agreed, user=self.doctor, session=self.mdt_session)
        mdt.opinion_save(case=agreed, author=surgeon, body="建议先行原发灶切除。")
        mdt.consensus_save(case=agreed, user=self.doctor, values=consensus, final=True)
        self.mdt_case = mdt.case_open(
            owner=self.doctor, values=summary, disciplines=needed, question=self.question
        )
        self.mdt_consent = Consent.objects.get(case=self.mdt_case)
        mdt.case_schedule(case=self.mdt_case, user=self.doctor, session=self.mdt_session)
        mdt.opinion_save(case=self.mdt_case, author=surgeon, body="建议先行原发灶切除。")
        self.mdt_opinion = mdt.opinion_save(
            case=self.mdt_case, author=surgeon, body="建议先行原发灶切除，术后随访。"
        )
        mdt.consensus_save(case=self.mdt_case, user=surgeon, values=consensus)

    def _surgeon(self, discipline):
        from accounts.services import account_create

        return account_create(
            email="surgeon@example.com",
            password="a-sturdy-test-passphrase",
            name="李外科",
            role=User.Role.DOCTOR,
            verified=True,
            discipline=discipline,
        )

    @staticmethod
    def _case_for(post) -> Case:
        return Case.objects.get(
            content_type=ContentType.objects.get_for_model(post),
            object_id=post.pk,
            resolved_at__isnull=True,
        )

    def url_kwargs(self) -> dict[str, dict]:
        """Real arguments for every URL pattern that takes any."""
        event, question = self.event, self.question
        return {
            "accounts:doctor-detail": {"user_id": self.doctor.pk},
            # The walk follows the redirect: the duplicate's page, with its notice.
            "forum:question-redirect": {"pk": self.duplicate.pk},
            "forum:question-duplicate": {"pk": self.duplicate.pk},
            "forum:question-duplicate-undo": {"pk": self.duplicate.pk},
            "forum:question-detail": {"pk": question.pk, "slug": question.slug},
            "forum:answer-fragment": {"pk": question.pk, "post_pk": self.answer.pk},
            "forum:reply-fragment": {"pk": question.pk, "post_pk": self.reply.pk},
            "forum:answer-create": {"pk": question.pk},
            "forum:reply-create": {"pk": question.pk},
            "forum:question-edit": {"pk": question.pk},
            "forum:question-follow": {"pk": question.pk},
            "forum:question-delete": {"pk": question.pk},
            "forum:answer-edit": {"pk": self.answer.pk},
            "forum:answer-accept": {"pk": self.answer.pk},
            "forum:answer-thank": {"pk": self.answer.pk},
            "forum:answer-delete": {"pk": self.answer.pk},
            "forum:reply-edit": {"pk": self.reply.pk},
            "forum:reply-delete": {"pk": self.reply.pk},
            "forum:category-detail": {"slug": question.category.slug},
            "forum:tag-detail": {"slug": question.tags.get().slug},
            "salon:event-detail": {"pk": event.pk},
            "salon:event-edit": {"pk": event.pk},
            "salon:event-rsvp": {"pk": event.pk},
            "salon:event-ics": {"pk": event.pk},
            "salon:event-attendees": {"pk": event.pk},
            "salon:event-attendees-csv": {"pk": event.pk},
            "salon:event-live": {"pk": self.live.pk},
            "salon:live-question-create": {"pk": self.live.pk},
            "salon:live-question-vote": {"pk": self.live.pk, "question_pk": self.live_question.pk},
            "salon:live-question-answered": {
                "pk": self.live.pk,
                "question_pk": self.live_question.pk,
            },
            "salon:live-questions-publish": {"pk": self.live.pk},
            "notifications:unsubscribe": {
                "token": unsubscribe_token(user=self.patient, verb=Verb.ANSWER)
            },
            "moderation:decide": {"case_id": self._case_for(self.held).pk},
            "moderation:suspend": {"user_id": self.patient.pk},
            "forum:question-lock": {"pk": question.pk},
            "duty:claim": {"pk": question.pk},
            "duty:pass": {"pk": question.pk},
            "attachments:image": {"key": self.shared_image.key},
            "attachments:thumbnail": {"key": self.shared_image.key},
            "attachments:status": {"key": self.shared_image.key},
            "attachments:cover": {"key": self.covering.key},
            "attachments:review": {"key": self.covering.key},
            "attachments:remove": {"key": self.reviewed.key},
            "moderation:flag": {"kind": "answer", "pk": self.answer.pk},
            "account_confirm_email": {"key": self.confirmation_key},
            **{
                f"mdt:{name}": {"pk": self.mdt_case.pk}
                for name in (
                    "case-detail",
                    "case-edit",
                    "opinion-save",
                    "consensus-save",
                    "case-schedule",
                    "follow-up",
                    "case-close",
                    "case-audit",
                    "case-export",
                )
            },
            "mdt:opinion-history": {"pk": self.mdt_case.pk, "opinion": self.mdt_opinion.pk},
            "mdt:session-detail": {"pk": self.mdt_session.pk},
            "mdt:session-edit": {"pk": self.mdt_session.pk},
            "mdt:session-ics": {"pk": self.mdt_session.pk},
            "mdt:consent": {"pk": self.mdt_consent.pk},
            "account_reset_password_from_key": {
                "uidb36": user_pk_to_url_str(self.patient),
                "key": default_token_generator.make_token(self.patient),
            },
        }


def _url_names(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", bool(pattern.pattern.regex.groupindex)


def site_urls(site: Site) -> list[str]:
    arguments = site.url_kwargs()
    urls, missing = [], []
    for name, takes_arguments in _url_names(get_resolver().url_patterns):
        if name in {"healthz", "set_language"}:
            continue
        if takes_arguments and name not in arguments:
            missing.append(name)
            continue
        urls.append(reverse(name, kwargs=arguments.get(name)))
    assert missing == [], "give these URL patterns real arguments in Site.url_kwargs"
    return urls


# Pages whose forms are worth sending empty, for their error messages.
FORMS_SENT_EMPTY = {
    "forum:question-ask",
    "forum:question-edit",
    "forum:answer-edit",
    "forum:reply-edit",
    "accounts:doctor-apply",
    "accounts:profile",
    "accounts:delete",
    "salon:event-create",
    "salon:event-edit",
    "mdt:case-create",
    "mdt:case-edit",
    "mdt:session-create",
    "mdt:session-edit",
    "moderation:flag",
    "moderation:suspend",
    "moderation:words",
    "account_login",
    "account_signup",
    "account_reset_password",
    "account_change_password",
}


@pytest.fixture
def site(user_factory, doctor_factory):
    return Site(user_factory, doctor_factory)


def _walk(client, site: Site, language: str) -> dict[str, set[str]]:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    found = {}
    login = reverse("account_login")
    for url in site_urls(site):
        first = client.get(url)
        responses = [("GET", url, first)]
        # Where a page sends its reader on (a reset link to its form), follow once.
        if first.status_code == 302 and not first["Location"].startswith(login):
            responses.append(("GET", first["Location"], client.get(first["Location"])))
        if first.resolver_match is not None and first.resolver_match.view_name in FORMS_SENT_EMPTY:
            responses.append(("POST", url, client.post(url, {})))
        for method, page, response in responses:
            if "text/html" not in response.get("Content-Type", "") or not response.content:
                continue
            english = english_in(response.content.decode())
            if english:
                found[f"{method} {page} ({response.status_code})"] = english
    return found


ROLES = ["visitor", "patient", "doctor", "moderator"]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_chinese_for_chinese_readers(client, site, role):
    if role != "visitor":
        client.force_login(getattr(site, role))
    found = _walk(client, site, "zh-hans")
    assert found == {}, "English left on Chinese pages:\n" + "\n".join(
        f"  {page}: {sorted(messages)}" for page, messages in sorted(found.items())
    )


def test_the_walk_finds_english_where_there_is_english(client, site):
    """The same walk in English finds the interface's messages, so a Chinese pass means something."""
    client.force_login(site.moderator)
    found = _walk(client, site, "en")
    seen = set().union(*found.values())
    assert {"Moderation queue", "Reason (sent to the author)", "Verified physician"} <= seen
    assert len(found) > 30


def test_e_mail_is_called_the_same_on_every_chinese_page():
    """电子邮件 and 电子邮件地址, as the site says: never allauth's "Email地址" or 邮箱."""
    other_words = re.compile(r"e-?mail|邮箱", re.IGNORECASE)
    mixed = {}
    for message in shown_messages():
        if any(re.search(r"e-?mail", text, re.IGNORECASE) for text in _ids(message)):
            chinese = " ".join(_in_chinese(message))
            if other_words.search(PLACEHOLDER.sub("", chinese)):
                mixed[_ids(message)[0]] = chinese
    assert mixed == {}
