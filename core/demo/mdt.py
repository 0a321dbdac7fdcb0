"""A demo MDT for seed_demo: a session in three days, and a case from the demo NET question.

Dr. Li Na opens a de-identified case from Liu Fang's question about
pancreatic NETs, which asks Liu Fang's consent; Dr. Wang Jun chairs the
session, Dr. Chen Hui records, and Dr. Li has written her opinion. Run
through the MDT services, three hours before the seed's moment.
"""

import zoneinfo
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import Discipline, PhysicianProfile, User
from core.demo.timeline import Timeline
from forum.models import Question
from mdt import services as mdt
from mdt.models import Session

SESSION_TITLE = "神经内分泌肿瘤（GEP-NET）MDT"
QUESTION_TITLE = "Are there clinical trials for pancreatic neuroendocrine tumours here?"
DISCIPLINES = {
    "dr.wang@shukang.example": "surgical-oncology",
    "dr.chen@shukang.example": "medical-oncology",
    "dr.li@shukang.example": "nuclear-medicine",
}
CASE = {
    "title": "胰腺神经内分泌肿瘤，G2，待定手术方案",
    "tumour_site": "胰体尾部，单发，约2.8 cm",
    "histology": "高分化神经内分泌肿瘤（NET）",
    "grade": "G2，Ki-67约6%",
    "stage": "cT2N0M0，待进一步评估",
    "functional_status": "无功能性；ECOG 0分",
    "prior_treatments": "第0个月：超声内镜穿刺活检确诊。尚未治疗。",
    "imaging": "增强CT：胰体尾部富血供结节；生长抑素受体PET/CT：病灶摄取明显，未见远处转移。",
    "pathology": "突触素（+），嗜铬粒蛋白A（+），Ki-67约6%。",
    "labs": "嗜铬粒蛋白A轻度升高，肝肾功能正常。",
    "board_question": "是否直接行胰体尾切除？术前是否需要其他检查？是否适合参加临床试验？",
}


def _starts(now: datetime) -> datetime:
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    day = timezone.localtime(now, zone).date() + timedelta(days=3)
    return datetime.combine(day, time(14, 0), tzinfo=zone)


def plan(timeline: Timeline) -> int:
    """The demo MDT's step, unless an earlier seed made it; how many sessions it adds."""
    if Session.objects.filter(title=SESSION_TITLE).exists():
        return 0
    timeline.add(timeline.now - timedelta(hours=3), lambda: _seed(timeline.now))
    return 1


def _seed(now: datetime) -> None:
    people = {user.email: user for user in User.objects.filter(email__in=DISCIPLINES)}
    disciplines = {item.slug: item for item in Discipline.objects.all()}
    for email, slug in DISCIPLINES.items():
        # Demo doctors seeded before disciplines existed get theirs now.
        PhysicianProfile.objects.filter(user=people[email], discipline=None).update(
            discipline=disciplines[slug]
        )
    wang, chen, li = (
        User.objects.select_related("physician_profile").get(email=email) for email in DISCIPLINES
    )
    starts_at = _starts(now)
    session = mdt.session_save(
        user=wang,
        values={
            "title": SESSION_TITLE,
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(hours=2),
            "submission_deadline": starts_at - timedelta(days=1),
            "location": "门诊楼五楼MDT会议室",
            "chair": wang,
            "recorder": chen,
        },
        invited=[li],
    )
    question = Question.objects.filter(title=QUESTION_TITLE).first()
    case = mdt.case_open(
        owner=li,
        values=CASE,
        disciplines=[
            disciplines[slug]
            for slug in ("surgical-oncology", "medical-oncology", "nuclear-medicine", "pathology")
        ],
        question=question if question is not None and question.is_published else None,
    )
    mdt.case_schedule(case=case, user=li, session=session)
    mdt.opinion_save(
        case=case,
        author=li,
        body="生长抑素受体显像阳性，未见转移。从核医学角度，术后可作为随访基线；目前不需要PRRT。",
    )
