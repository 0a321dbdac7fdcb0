import pytest

from moderation import detectors


@pytest.mark.parametrize(
    ("text", "kind", "found"),
    [
        ("请打我电话13812345678谢谢", "phone", "13812345678"),
        ("手机 138 1234 5678 随时", "phone", "138 1234 5678"),
        ("call +86 139-1234-5678 please", "phone", "+86 139-1234-5678"),
        ("家里座机 010-62345678", "phone", "010-62345678"),
        ("身份证11010519491231002X", "id_number", "11010519491231002X"),
        ("write to zhang.wei@example.com", "email", "zhang.wei@example.com"),
    ],
)
def test_personal_data_is_found(text, kind, found):
    assert [(f.kind, f.text) for f in detectors.find_personal_data(text)] == [(kind, found)]


@pytest.mark.parametrize(
    "text",
    [
        "XELOX 第3周期，CEA 12.5，血小板 85",
        "11010519491231002Y looks like an ID but its check digit is wrong",
        "ordinary text about 2026-11-26 and 10000 steps",
        "白细胞 3.2×10^9/L，体重 62 公斤",
    ],
)
def test_ordinary_medical_text_is_not_personal_data(text):
    assert detectors.find_personal_data(text) == []


def test_links_terms_and_emergencies():
    assert [f.text for f in detectors.find_links("see https://x.example/a and www.y.example")] == [
        "https://x.example/a",
        "www.y.example",
    ]
    assert [f.text for f in detectors.find_terms("Buy MIRACLE cure now", ["miracle cure"])] == [
        "MIRACLE cure"
    ]
    assert detectors.has_emergency_words("昨晚开始吐血")
    assert detectors.has_emergency_words("I am vomiting blood since this morning")
    assert not detectors.has_emergency_words("mild nausea after chemotherapy")


def test_highlight_escapes_and_marks():
    text = "<b>call</b> 13812345678"
    html = detectors.highlight(text, detectors.find_personal_data(text))
    assert html.startswith("&lt;b&gt;call&lt;/b&gt; <mark")
    assert ">13812345678</mark>" in html
