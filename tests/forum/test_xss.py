"""Stored-XSS payloads typed into questions, answers and replies come out harmless.

Assertions are on the parsed page, not on strings: whatever a browser would
build from the HTML must hold no script, handler, style or dangerous link.
"""

from html.parser import HTMLParser

import pytest

from forum import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _links_allowed(settings):
    """Links from new accounts wait for a moderator; these authors are not new."""
    settings.SHUKANG_NEW_ACCOUNT_DAYS = 0


PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<body onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#x6A;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    "![x](https://evil.example/pixel.png)",
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<div style="position:fixed;top:0">overlay</div>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "<input onfocus=alert(1) autofocus>",
    "<details open ontoggle=alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<style>body{display:none}</style>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<<script>script>alert(1)<</script>/script>",
    '<a href="  javascript:alert(1)">spaces</a>',
    "[x](<javascript:alert(1)>)",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "<a href='https://ok.example' target=_blank>ok</a>",
]

ALLOWED_TAGS = {"p", "br", "em", "strong", "ul", "ol", "li", "blockquote", "code", "pre", "a"}


class PostBodies(HTMLParser):
    """Collects every element inside .post-body containers."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.elements = []
        self.scripts_anywhere = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes:
            self.scripts_anywhere.append(attributes)
        if tag == "script" and "src" in attributes and not attributes["src"].startswith("/static/"):
            self.scripts_anywhere.append(attributes)
        if self.depth:
            self.elements.append((tag, attributes))
            if tag not in {"br"}:
                self.depth += 1
        elif "post-body" in (attributes.get("class") or "").split():
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1


def assert_harmless(html: str) -> None:
    parser = PostBodies()
    parser.feed(html)
    assert parser.scripts_anywhere == []
    for tag, attributes in parser.elements:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name)
            assert name in {"href", "title", "rel"}, (tag, name)
            if name == "href":
                assert value.strip().lower().startswith(("http://", "https://", "mailto:")), value
        if tag == "a":
            assert attributes.get("rel") == "nofollow ugc noopener"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_harmless_in_every_kind_of_post(client, patient, doctor, category, payload):
    question = services.question_create(
        author=patient,
        title="Is this text safe to show here?",
        body=f"Padding so the body is long enough. {payload}",
        category=category,
    )
    answer = services.answer_create(
        question=question, author=doctor, body=f"A physician writes: {payload}"
    )
    services.reply_create(question=question, author=patient, body=payload)
    services.reply_create(question=question, answer=answer, author=patient, body=payload)
    response = client.get(question.get_absolute_url())
    assert response.status_code == 200
    assert_harmless(response.content.decode())


def test_corpus_is_large_enough():
    assert len(PAYLOADS) >= 25


def test_plain_links_keep_working(client, patient, category):
    question = services.question_create(
        author=patient,
        title="Useful guide about nutrition",
        body="See [the guide](https://www.example.org/guide) before your next appointment.",
        category=category,
    )
    page = client.get(question.get_absolute_url()).content.decode()
    assert (
        '<a href="https://www.example.org/guide" rel="nofollow ugc noopener">the guide</a>' in page
    )
