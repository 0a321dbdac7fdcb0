import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from forum import search, selectors, services, vocabulary
from forum.models import PostState, Question

pytestmark = pytest.mark.django_db


def test_chinese_is_indexed_as_characters_and_pairs_and_english_as_stems():
    document = search.document("化疗后恶心 Metastases")
    assert " 化疗 " in document and " 恶心 " in document and " 化 " in document
    assert f" {vocabulary.stem('metastases')} " in document
    # Digits and Latin letters written against Chinese stay apart from it.
    assert " 化疗 " in search.document("第4次化疗") and " xelox " in search.document("XELOX方案")
    # A query's words that carry no meaning are left out.
    assert search.plan("化疗后怎么办").clauses == search.plan("化疗").clauses
    assert search.plan("what is the fatigue").clauses == search.plan("fatigue").clauses


def test_a_glossary_term_is_one_token_in_both_languages():
    (oxaliplatin,) = [term for term, *_ in vocabulary.find("oxaliplatin")]
    token = search.concept_token(oxaliplatin)
    for text in ["奥沙利铂", "L-OHP", "Oxaliplatin"]:
        assert f" {token} " in search.document(text)


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
    assert question.get_absolute_url() in content
    assert "<mark>Numb</mark> fingers" in content  # numbness is one of the glossary's forms


def test_questions_with_every_word_come_before_those_with_some(question_factory):
    some = question_factory(title="Fatigue during chemotherapy treatment")
    every = question_factory(title="Fatigue during immunotherapy treatment")
    results = selectors.question_search(viewer=AnonymousUser(), query="fatigue immunotherapy")
    # Too few have every word, so those with all but one follow them.
    assert [q.pk for q in results.questions] == [every.pk, some.pk]


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


def test_common_words_keep_the_best_matches(client, question_factory, monkeypatch):
    monkeypatch.setattr(search, "MAX_CANDIDATES", 3)
    monkeypatch.setattr(search, "RECENT_WINDOW", 5)
    oldest = question_factory(title="Stoma bag leaking at night, what helps?")
    answered = question_factory(title="Fatigue in the first week of FOLFOX", answers=1)
    for number in range(8):
        question_factory(title=f"Fatigue after cycle {number} of FOLFOX")
    found = selectors.question_search(viewer=AnonymousUser(), query="fatigue")
    assert found.more and len(found.questions) == 3
    # The answered one first though it is older, then the most recently active.
    assert [q.title for q in found.questions] == [
        answered.title,
        *(f"Fatigue after cycle {n} of FOLFOX" for n in (7, 6)),
    ]
    page = client.get(reverse("forum:search"), {"q": "fatigue"}).content.decode()
    assert "More than 3 questions found" in page
    # A word not in the best questions is still found in older ones.
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

    def share(query):
        return search._clauses_share(search.plan(query).clauses)

    assert share("fatigue") > 0.8
    assert share("fatigue stoma") < 0.2
    assert share("neverwrittenanywhere") < 0.2


CHINESE_NUMBNESS = {
    "title": "我爸爸用奥沙利铂以后手脚麻木，正常吗",
    "body": "第四个周期以后手指一碰凉水就麻，走路也觉得脚底发麻，会不会一直这样？",
}


def test_an_english_query_finds_a_question_written_only_in_chinese(client, question_factory):
    question = question_factory(**CHINESE_NUMBNESS)
    question_factory(
        title="术后饮食应该注意些什么呢", body="胃切除以后吃什么比较好，需要注意哪些问题？"
    )

    response = client.get(reverse("forum:search"), {"q": "oxaliplatin numbness"})
    content = response.content.decode()
    assert question.get_absolute_url() in content and "术后饮食" not in content
    assert "<mark>奥沙利铂</mark>" in content  # the snippet shows where it matched
    assert "Also searched:" in content and "奥沙利铂" in content.split("Also searched:")[1]


def test_a_chinese_query_finds_a_question_written_in_english(client, question_factory):
    question = question_factory(
        title="Tingling hands after L-OHP infusions", body="Is the cold sensitivity permanent?"
    )
    content = client.get(reverse("forum:search"), {"q": "奥沙利铂"}).content.decode()
    assert question.get_absolute_url() in content


def test_inflections_and_patients_words_match(client, question_factory):
    liver = question_factory(title="Liver metastases after colon surgery", body="What now?" * 3)
    chemo = question_factory(title="Hair loss during chemotherapy", body="Will it grow back?" * 3)
    url = reverse("forum:search")
    assert liver.get_absolute_url() in client.get(url, {"q": "metastasis"}).content.decode()
    assert chemo.get_absolute_url() in client.get(url, {"q": "chemo"}).content.decode()


def test_a_patients_sentence_still_finds_the_terms_it_names(client, question_factory):
    question = question_factory(**CHINESE_NUMBNESS)
    content = client.get(
        reverse("forum:search"),
        {"q": "my dad has numbness in his fingers after oxaliplatin, what should he do"},
    ).content.decode()
    assert question.get_absolute_url() in content


def test_tag_and_category_names_are_searched_and_shown_as_facets(
    client, question_factory, category
):
    from forum.models import Tag

    tag, _ = Tag.objects.get_or_create(
        name="Chemotherapy", defaults={"name_zh": "化疗", "slug": "chemotherapy"}
    )
    tagged = question_factory(
        title="第三次以后一直没胃口", body="吃不下饭，体重掉了五斤，家里人都很着急，怎么办？"
    )
    tagged.tags.add(tag)
    services._refresh_question(tagged)
    other = question_factory(title="Chemotherapy and work", body="Can I keep working during it?")
    url = reverse("forum:search")

    content = client.get(url, {"q": "chemotherapy"}).content.decode()
    assert tagged.get_absolute_url() in content and other.get_absolute_url() in content
    assert "search-facets" in content and f"tag={tag.slug}" in content
    narrowed = client.get(url, {"q": "chemotherapy", "tag": tag.slug}).content.decode()
    assert tagged.get_absolute_url() in narrowed and other.get_absolute_url() not in narrowed
    # A facet value that is not a slug narrows nothing and breaks nothing.
    hostile = client.get(url, {"q": "chemotherapy", "tag": "' OR 1=1", "category": "../x"})
    assert hostile.status_code == 200 and tagged.get_absolute_url() in hostile.content.decode()


def test_answered_and_accepted_questions_come_first(question_factory, doctor):
    unanswered = question_factory(title="Nausea after XELOX, any tips please")
    answered = question_factory(title="Nausea after XELOX, what helps", answers=1)
    accepted = question_factory(title="Nausea after XELOX cycle two", answers=1)
    services.answer_accept(answer=accepted.answers.get(), user=accepted.author)
    results = selectors.question_search(viewer=AnonymousUser(), query="XELOX nausea")
    assert [q.pk for q in results.questions] == [accepted.pk, answered.pk, unanswered.pk]


def test_title_matches_come_first_on_every_database(question_factory):
    question_factory(title="Nutrition advice wanted please", body="Nausea again after every cycle.")
    titled = question_factory(
        title="Something about nausea", body="Short description, long enough."
    )
    results = selectors.question_search(viewer=AnonymousUser(), query="nausea")
    assert [q.pk for q in results.questions][0] == titled.pk


def test_search_queries_do_not_grow_with_the_results(
    client, question_factory, django_assert_num_queries
):
    for number in range(3):
        question_factory(title=f"Fatigue question {number}")
    url = reverse("forum:search")
    client.get(url, {"q": "fatigue"})
    with django_assert_num_queries(QUERIES := _search_queries(client, url)):
        client.get(url, {"q": "fatigue"})
    for number in range(30):
        question_factory(title=f"More fatigue {number}", answers=1)
    with django_assert_num_queries(QUERIES):
        client.get(url, {"q": "fatigue"})


def _search_queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url, {"q": "fatigue"})
    return len(captured)


def test_a_duplicate_comes_after_the_question_it_points_to(question_factory, doctor):
    original = question_factory(title="Cold hands on oxaliplatin", answers=1)
    duplicate = question_factory(title="Cold hands on oxaliplatin again", answers=1)
    services.answer_accept(answer=duplicate.answers.get(), user=duplicate.author)
    services.question_duplicate_mark(question=duplicate, original=original, by=doctor)
    results = selectors.question_search(viewer=AnonymousUser(), query="oxaliplatin")
    assert [q.pk for q in results.questions] == [original.pk, duplicate.pk]


def test_a_misspelt_drug_finds_what_the_glossary_calls_it(client, question_factory):
    question = question_factory(
        title="吃卡培他滨以后手掌脱皮，怎么护理？",
        body="第三个周期开始手掌发红脱皮，走路的时候也很疼。",
    )
    content = client.get(reverse("forum:search"), {"q": "capecitibine"}).content.decode()
    assert question.get_absolute_url() in content
    assert "卡培他滨" in content.split("Also searched:")[1]


def test_facets_count_the_matches_most_first_and_rows_show_their_tags(
    client, question_factory, category
):
    from forum.models import Category, Tag

    other = Category.objects.exclude(pk=category.pk).first()
    tags = {
        name: Tag.objects.create(name=name, slug=name.lower())
        for name in ["Diet", "Fatigue", "Sleep"]
    }
    plan = [(other, ["Sleep", "Diet"]), (other, ["Sleep"]), (None, ["Fatigue", "Sleep"])]
    made = []
    for in_category, names in plan:
        question = question_factory(
            title="Tired all day during chemotherapy",
            **({"category": in_category} if in_category else {}),
        )
        question.tags.add(*(tags[name] for name in names))
        services._refresh_question(question)
        made.append(question)

    results = selectors.question_search(viewer=AnonymousUser(), query="tired")
    shown = [(facet.kind, facet.slug, facet.count) for facet in results.facets]
    assert shown == [
        ("category", other.slug, 2),
        ("category", made[2].category.slug, 1),
        ("tag", "sleep", 3),
        ("tag", "diet", 1),
        ("tag", "fatigue", 1),
    ]
    # Each row's tags by name, as the lists show them, with no query of their own.
    content = client.get(reverse("forum:search"), {"q": "tired"}).content.decode()
    row = content[content.index(made[0].get_absolute_url()) :]
    assert row.index('href="/tags/diet/"') < row.index('href="/tags/sleep/"') < row.index("</li>")


def test_a_members_own_held_questions_show_their_tags_in_their_results(
    client, question_factory, patient
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from forum.models import Tag

    tag = Tag.objects.create(name="Hyperthermia", slug="hyperthermia")
    client.force_login(patient)
    url = reverse("forum:search")
    queries = []
    for number in range(4):
        held = question_factory(
            author=patient, title=f"Held question {number} about hyperthermia treatment"
        )
        held.tags.add(tag)
        Question.objects.filter(pk=held.pk).update(state=PostState.PENDING)
        services._refresh_question(held)
        with CaptureQueriesContext(connection) as captured:
            content = client.get(url, {"q": "hyperthermia"}).content.decode()
        queries.append(len(captured))
        assert content.count("Held question") == number + 1
        assert content.count(f'href="{tag.get_absolute_url()}"') == number + 1
    # Their tags come in one query however many there are.
    assert len(set(queries[1:])) == 1
