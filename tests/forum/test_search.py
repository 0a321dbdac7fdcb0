import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from forum import search, selectors, services
from forum.models import PostState, Question

pytestmark = pytest.mark.django_db


def test_chinese_is_indexed_as_characters_and_pairs():
    document = search.document("化疗后恶心")
    assert " 化疗 " in document and " 恶心 " in document and " 化 " in document
    assert search.query_tokens("化疗 恶心") == ["化疗", "恶心"]
    assert search.query_tokens("XELOX Nausea") == ["xelox", "nausea"]


def test_finds_questions_by_chinese_words(client, question_factory):
    hit = question_factory(
        title="化疗后恶心呕吐怎么办才好呢", body="第三个周期以后恶心得厉害，吃不下饭，怎么办？"
    )
    question_factory(
        title="术后饮食应该注意些什么呢", body="胃切除以后吃什么比较好，需要注意哪些问题？"
    )
    content = client.get(reverse("forum:search"), {"q": "恶心"}).content.decode()
    assert hit.title.replace("恶心", "<mark>恶心</mark>") in content
    assert "术后饮食" not in content


def test_finds_questions_through_their_answers(client, question_factory, doctor):
    question = question_factory(title="Numb fingers after chemotherapy")
    services.answer_create(
        question=question, author=doctor, body="This is oxaliplatin neuropathy; avoid cold drinks."
    )
    content = client.get(reverse("forum:search"), {"q": "neuropathy"}).content.decode()
    assert "Numb fingers after chemotherapy" in content


def test_every_word_must_match(client, question_factory):
    question_factory(title="Fatigue during immunotherapy treatment")
    question_factory(title="Fatigue during chemotherapy treatment")
    content = client.get(reverse("forum:search"), {"q": "fatigue immunotherapy"}).content.decode()
    assert (
        "<mark>immunotherapy</mark> treatment" in content
        and "chemotherapy treatment" not in content
    )


def test_results_respect_visibility(client, question_factory, patient, user_factory):
    question = question_factory(author=patient, title="Hidden question about hyperthermia")
    Question.objects.filter(pk=question.pk).update(state=PostState.PENDING)
    url = reverse("forum:search")
    assert "Hidden question" not in client.get(url, {"q": "hyperthermia"}).content.decode()
    client.force_login(user_factory())
    assert "Hidden question" not in client.get(url, {"q": "hyperthermia"}).content.decode()
    client.force_login(patient)
    assert "Hidden question" in client.get(url, {"q": "hyperthermia"}).content.decode()


def test_deleted_questions_are_not_found(client, question_factory):
    question = question_factory(title="Deleted question about radiotherapy")
    services.post_delete(post=question, user=question.author)
    assert (
        "Deleted question"
        not in client.get(reverse("forum:search"), {"q": "radiotherapy"}).content.decode()
    )


def test_anonymous_askers_stay_anonymous_in_results(client, question_factory, patient):
    question_factory(author=patient, is_anonymous=True, title="Anonymous question about stomas")
    content = client.get(reverse("forum:search"), {"q": "stomas"}).content.decode()
    assert "Anonymous patient" in content and patient.name not in content


def test_empty_and_symbol_queries_find_nothing_without_error(client, question_factory):
    question_factory()
    for query in ["", "   ", "%%%", "' OR 1=1 --", "<script>"]:
        response = client.get(reverse("forum:search"), {"q": query})
        assert response.status_code == 200
        assert "<script>alert" not in response.content.decode()


def test_snippets_escape_the_text_around_matches():
    assert (
        search.highlight("<b>nausea</b> again", "nausea")
        == "&lt;b&gt;<mark>nausea</mark>&lt;/b&gt; again"
    )


@pytest.mark.postgres
def test_postgres_ranks_title_matches_first(question_factory):
    question_factory(
        title="Nutrition advice wanted please",
        body="Nausea nausea nausea after every cycle of XELOX.",
    )
    titled = question_factory(
        title="Something about nausea and XELOX", body="Short description that is long enough."
    )
    results = selectors.question_search(viewer=AnonymousUser(), query="nausea")
    assert [q.pk for q in results.questions][0] == titled.pk


def test_common_words_keep_the_most_recently_active_matches(client, question_factory, monkeypatch):
    monkeypatch.setattr(search, "MAX_CANDIDATES", 3)
    monkeypatch.setattr(search, "RECENT_WINDOW", 5)
    oldest = question_factory(title="Stoma bag leaking at night, what helps?")
    for number in range(8):
        question_factory(title=f"Fatigue after cycle {number} of FOLFOX")
    found = selectors.question_search(viewer=AnonymousUser(), query="fatigue")
    assert found.more and len(found.questions) == 3
    assert {q.title for q in found.questions} == {
        f"Fatigue after cycle {n} of FOLFOX" for n in (5, 6, 7)
    }
    page = client.get(reverse("forum:search"), {"q": "fatigue"}).content.decode()
    assert "More than 3 questions found" in page
    # A word not in the recent questions is still found in older ones.
    found = selectors.question_search(viewer=AnonymousUser(), query="stoma")
    assert not found.more and [q.pk for q in found.questions] == [oldest.pk]


def test_moderators_find_held_questions(client, question_factory, moderator):
    question = question_factory(title="Held question about hyperthermia")
    Question.objects.filter(pk=question.pk).update(state=PostState.PENDING)
    client.force_login(moderator)
    content = client.get(reverse("forum:search"), {"q": "hyperthermia"}).content.decode()
    assert "Held question" in content


@pytest.mark.postgres
def test_postgres_statistics_tell_common_words_from_rare_ones(question_factory, monkeypatch):
    from django.db import connection

    for number in range(12):
        question_factory(title=f"Fatigue and nausea in week {number}")
    question_factory(title="Stoma care question, once")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE forum_question")
    monkeypatch.setattr(search, "_stats", None)
    assert search._share(["fatigue"]) > 0.8
    assert search._share(["fatigue", "stoma"]) < 0.2
    assert search._share(["never-written-anywhere"]) < 0.2
