"""Markdown to safe HTML, once, when a post is saved.

markdown-it-py renders CommonMark with raw HTML switched off, so HTML typed
by a user comes out as text; bleach then keeps only SPEC section 4's
allowlist, so nothing the renderer might emit (images, unknown schemes)
reaches a page either.
"""

from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "ul", "ol", "li", "blockquote", "code", "pre", "a"}
)
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
# Headings, images and rules are not in the allowlist; turning them off
# keeps their text as plain paragraphs instead of silently dropping it.
_renderer.disable(["image", "heading", "lheading", "hr", "html_block", "html_inline"])


def _set_rel(attrs, new=False):
    href = attrs.get((None, "href"), "")
    if not href.startswith(("http://", "https://", "mailto:")):
        # A relative or odd link: keep the text, drop the link.
        return None
    attrs[(None, "rel")] = LINK_REL
    return attrs


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"})],
)


def render_markdown(source: str) -> str:
    """Render Markdown to sanitised HTML safe to mark safe in a template."""
    return _cleaner.clean(_renderer.render(source or "")).strip()
