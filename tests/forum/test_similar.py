import pytest
from django.urls import reverse
from django.utils import timezone

from forum import listcache, services, similar
from forum.models import PostState, Question
from forum.similar import statistics as real_statistics

pytestmark = pytest.mark.django_db

URL = "/questions/similar/"
TYPED = "How long does oxaliplatin numbness last"


def titles(found) -> list[str]:
    return [row["title"] for row in found]


@pytest.mark.postgres
def test_postgresql_statistics_are_read_and_kept(django_assert_max_num_queries):
    from forum import search

    search._stats = similar._rows = None
    with django_assert_max_num_queries(2):  # the lexemes' shares, the table's size
        first = real_statistics()
    with django_assert_max_num_queries(0):
        again = real_statistics()
    assert first == again and first.questions >= 0


def test_the_url_is_the_fixed_interface():
    assert reverse("forum:question-similar") == URL


def test_an_answered_question_comes_before_an_unanswered_one_as_alike(question_factory):
    question_factory(title="Oxaliplatin numbness: how long does it last?")
    answered = question_factory(title="Oxaliplatin numbness, how long will it last?", answers=1)
    found = similar.similar_questions(TYPED)
    assert titles(found)[0] == answered.title
    assert len(found) == 2


def test_an_accepted_answer_comes_before_an_answered_question(question_factory):
    question_factory(title="Oxaliplatin numbness: how long does it last?", answers=2)
    accepted = question_factory(title="Oxaliplatin numbness, how long will it last?", answers=1)
    services.answer_accept(answer=accepted.answers.get(), user=accepted.author)
    found = similar.similar_questions(TYPED)
    assert titles(found)[0] == accepted.title
    assert found[0]["accepted_answer_id"] is not None


def test_a_title_match_comes_before_a_match_in_the_text(question_factory):
    in_text = question_factory(
        title="Cold hands during my colon cancer treatment",
        body="Since oxaliplatin the numbness lasts for days. How long does it last for others?",
        answers=2,
    )
    in_title = question_factory(title="How long does oxaliplatin numbness last after XELOX?")
    found = titles(similar.similar_questions(TYPED))
    assert found[0] == in_title.title
    assert in_text.title not in found[:1]


def test_titles_in_the_other_language_are_found_through_the_vocabulary(question_factory):
    chinese = question_factory(
        title="奥沙利铂化疗后手脚麻木要多久才能好？",
        body="第四个周期以后手指一直发麻，碰冷水更厉害。",
        answers=1,
    )
    assert chinese.title in titles(similar.similar_questions("oxaliplatin numbness"))


def test_a_title_sharing_one_word_is_not_similar(question_factory):
    question_factory(title="Which diet helps during chemotherapy?", answers=1)
    typed = "How long does numbness last in the fingers after chemotherapy"
    assert similar.similar_questions(typed) == []


def test_at_most_five_are_offered(question_factory):
    for number in range(7):
        question_factory(title=f"Oxaliplatin numbness, how long does it last? ({number})")
    assert len(similar.similar_questions(TYPED)) == 5


def test_a_question_page_leaves_itself_out(question_factory):
    question = question_factory(title="Oxaliplatin numbness, how long will it last?")
    other = question_factory(title="Oxaliplatin numbness: how long does it last?")
    found = similar.similar_questions(question.title, exclude=question.pk)
    assert titles(found) == [other.title]


@pytest.mark.parametrize("change", ["pending", "rejected", "hidden", "deleted", "duplicate"])
def test_only_published_questions_are_offered(question_factory, change):
    original = question_factory(title="Oxaliplatin numbness, how long will it last?", answers=1)
    other = question_factory(title="Oxaliplatin numbness: how long does it last?")
    fields = {
        "pending": {"state": PostState.PENDING},
        "rejected": {"state": PostState.REJECTED},
        "hidden": {"state": PostState.HIDDEN},
        "deleted": {"deleted_at": timezone.now()},
        "duplicate": {"duplicate_of": original},
    }[change]
    Question.objects.filter(pk=other.pk).update(**fields)
    assert titles(similar.similar_questions(TYPED)) == [original.title]


def test_the_askers_own_draft_is_not_offered_to_them(client, question_factory, patient, settings):
    settings.SHUKANG_HOLD_FIRST_POSTS = 5
    question_factory(author=patient, title="Oxaliplatin numbness, how long will it last?")
    assert Question.objects.get().state == PostState.PENDING
    client.force_login(patient)
    assert client.get(URL, {"title": TYPED}).json() == {"results": []}


def test_the_answer_is_the_fixed_json_shape(client, question_factory):
    question = question_factory(title="Oxaliplatin numbness, how long will it last?", answers=2)
    services.answer_accept(answer=question.answers.first(), user=question.author)
    response = client.get(URL, {"title": TYPED})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "results": [
            {
                "id": question.pk,
                "title": question.title,
                "url": question.get_absolute_url(),
                "answers": 2,
                "accepted": True,
            }
        ]
    }
    cache_control = response["Cache-Control"]
    assert "private" in cache_control and "max-age=60" in cache_control


@pytest.mark.parametrize("title", ["", "   ", "abc", "麻木", "  num  "])
def test_short_titles_find_nothing(client, question_factory, title):
    question_factory(title="Numb hands: how long does it last?", answers=1)
    response = client.get(URL, {"title": title})
    assert response.status_code == 200
    assert response.json() == {"results": []}


def test_titles_past_the_fields_length_are_cut(question_factory, django_assert_max_num_queries):
    question = question_factory(title="Oxaliplatin numbness, how long will it last?")
    long_title = TYPED + " " + "x" * 5000 + " unrelated words at the end"
    with django_assert_max_num_queries(5):
        found = similar.similar_questions(long_title)
    assert titles(found) == [question.title]


@pytest.mark.parametrize(
    "query, statuses",
    [
        ("title=%00", {400}),
        ("title=numb%00ness+after+oxaliplatin", {400}),
        ("title=" + "9" * 100_000, {200}),
        ("title=a&title=b&title=c", {200}),
        ("title[]=oxaliplatin+numbness", {200}),
        ("title=%ff%fe+oxaliplatin", {200}),
        ("title=''|%26!(:*)", {200}),
        ("title=" + "%E8%82%9D" * 3000, {200}),
    ],
)
def test_hostile_titles_answer_400_or_an_empty_list(client, question_factory, query, statuses):
    question_factory(title="Oxaliplatin numbness, how long will it last?")
    response = client.get(f"{URL}?{query}")
    assert response.status_code in statuses
    if response.status_code == 200:
        assert isinstance(response.json()["results"], list)


def test_only_get_is_answered(client):
    assert client.post(URL, {"title": TYPED}).status_code == 405


def test_visitors_past_the_limit_get_429_with_a_message(client, settings):
    settings.SHUKANG_RATE_LIMITS = {**settings.SHUKANG_RATE_LIMITS, "question_similar": (3, 60)}
    for _ in range(3):
        assert client.get(URL, {"title": TYPED}).status_code == 200
    refused = client.get(URL, {"title": TYPED})
    assert refused.status_code == 429
    body = refused.json()
    assert body["results"] == []
    assert "similar questions" in body["error"]
    assert "no-cache" in refused["Cache-Control"]
    # Another address is counted apart.
    assert client.get(URL, {"title": TYPED}, REMOTE_ADDR="10.1.2.3").status_code == 200


def test_members_are_counted_by_account_and_told_in_their_language(
    client, patient, user_factory, settings
):
    settings.SHUKANG_RATE_LIMITS = {**settings.SHUKANG_RATE_LIMITS, "question_similar": (2, 60)}
    client.force_login(patient)
    for _ in range(2):
        assert client.get(URL, {"title": TYPED}).status_code == 200
    refused = client.get(URL, {"title": TYPED}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 429
    assert "相似问题" in refused.json()["error"]
    client.force_login(user_factory())
    assert client.get(URL, {"title": TYPED}).status_code == 200


def test_the_endpoint_query_count_is_flat(
    client, question_factory, is_postgres, django_assert_num_queries
):
    for number in range(8):
        question_factory(
            title=f"Oxaliplatin numbness, how long does it last? ({number})", answers=1
        )
    # the candidates, ranked; on PostgreSQL inside a savepoint that turns
    # sequential scans off (savepoint, set_config, release)
    with django_assert_num_queries(4 if is_postgres else 1):
        response = client.get(URL, {"title": TYPED})
    assert len(response.json()["results"]) == 5


def test_the_question_page_shows_related_questions(client, question_factory):
    question = question_factory(title="Oxaliplatin numbness, how long will it last?")
    other = question_factory(title="Oxaliplatin numbness: how long does it last?", answers=1)
    question_factory(title="Which diet helps during chemotherapy?")
    content = client.get(question.get_absolute_url()).content.decode()
    related = content.split('id="related-title"')[1].split("</aside>")[0]
    assert other.get_absolute_url() in related
    assert "Which diet" not in related
    assert question.get_absolute_url() not in related
    assert "1 answer" in related


def test_a_question_page_without_related_questions_shows_no_heading(client, question_factory):
    question = question_factory(title="Oxaliplatin numbness, how long will it last?")
    assert "Related questions" not in client.get(question.get_absolute_url()).content.decode()


def test_the_ask_form_carries_the_scripts_words_in_chinese(client, patient):
    client.force_login(patient)
    client.cookies["django_language"] = "zh-hans"
    content = client.get(reverse("forum:question-ask")).content.decode()
    assert 'src="/static/js/similar.js"' in content
    assert 'data-url="/questions/similar/"' in content
    assert "已经有人问过的相似问题" in content
    assert 'data-answers-other="%(counter)s 条回答"' in content


def test_a_token_that_is_not_letters_and_digits_never_reaches_the_query(
    question_factory, monkeypatch
):
    question = question_factory(title="Oxaliplatin numbness, how long will it last?")
    monkeypatch.setattr(
        similar, "query_tokens", lambda title: ["o'x|!", "oxaliplatin", "numb", "long", "last"]
    )
    assert titles(similar.similar_questions(TYPED)) == [question.title]


STATS = similar.Statistics({"化疗": 0.85, "手脚": 0.3, "麻木": 0.3, "腹泻": 0.2}, 0.05, 100_000)


def test_only_rare_tokens_are_looked_up_two_at_a_time_when_many_hold_them():
    lookups = similar._lookups(["化疗", "奥沙", "沙利", "利铂", "麻木"], STATS)
    assert [ranking for _groups, ranking in lookups] == [["奥沙", "沙利", "利铂"]] * 2
    assert lookups[0][0] == [("奥沙", "沙利"), ("奥沙", "利铂"), ("沙利", "利铂")]
    assert lookups[1][0] == [("奥沙",), ("沙利",), ("利铂",)]


def test_a_title_of_common_words_is_looked_up_by_its_least_common_pairs():
    groups, ranking = similar._lookups(["化疗", "手脚", "麻木", "腹泻"], STATS)[0]
    assert ranking == ["腹泻", "手脚", "麻木", "化疗"]
    assert len(groups) == 6
    assert similar._lookups(["化疗"], STATS) == []


def test_a_question_pages_related_questions_are_looked_up_once_per_version(
    client, question_factory, doctor, monkeypatch, django_capture_on_commit_callbacks
):
    question = question_factory(title="Hand-foot syndrome on capecitabine, what helps?")
    other = question_factory(title="Capecitabine and hand-foot syndrome: creams that helped")
    looked_up = []
    real = similar.similar_questions

    def counted(*args, **kwargs):
        looked_up.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(similar, "similar_questions", counted)
    first = client.get(question.get_absolute_url()).content.decode()
    client.force_login(doctor)  # another reader, another page: the same related questions
    second = client.get(question.get_absolute_url()).content.decode()
    assert len(looked_up) == 1
    assert other.title in first and other.title in second
    with django_capture_on_commit_callbacks(execute=True):
        other.title = "Creams for hand-foot syndrome on capecitabine"
        other.save()
        listcache.invalidate()
    assert (
        "Creams for hand-foot syndrome" in client.get(question.get_absolute_url()).content.decode()
    )
    assert len(looked_up) == 2
