"""Untrusted markdown (lab prompts, expert answers) to safe HTML.

markdown-it-py parses with raw HTML off, math (`$…$`, `$$…$$`) becomes elements KaTeX typesets in
the browser, code blocks are highlighted by Pygments on the server, and nh3 (Ammonia) then keeps
only an allowlist of tags, attributes and URL schemes: whatever the parser lets through, no script,
event handler, style or `javascript:` URL survives. Images are shown as links, so a prompt cannot
make the expert's browser fetch anything (the CSP would also refuse it).
"""

from __future__ import annotations

import functools
import html

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "strong", "em", "del",
    "code", "pre", "span", "div", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
    "pre": {"class"},
    "ol": {"start"},
}
_FORMATTER = HtmlFormatter(nowrap=True, classprefix="hl-")


def _highlight(code: str, language: str, _attrs: str) -> str:
    try:
        lexer = get_lexer_by_name(language.strip()) if language.strip() else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it escapes the code itself
    return str(highlight(code, lexer, _FORMATTER))


def _image_as_link(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env) or "image"
    src = str(token.attrGet("src") or "")
    return f'<a href="{html.escape(src, quote=True)}">[image: {html.escape(alt)}]</a>'


_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "highlight": _highlight})
    .enable(["table", "strikethrough"])
    .use(dollarmath_plugin, double_inline=False, allow_labels=False)
)
_md.add_render_rule("image", _image_as_link)


def render(text: str) -> Markup:
    # A project's instructions and a task's prompt are shown again on every page of it: the same
    # text renders to the same HTML, so recent renders are kept (short texts only, by value).
    if len(text) <= _CACHED_MAX_CHARS:
        return _render_cached(text)
    return _render(text)


_CACHED_MAX_CHARS = 20_000


@functools.lru_cache(maxsize=2048)
def _render_cached(text: str) -> Markup:
    return _render(text)


def _render(text: str) -> Markup:
    raw = _md.render(text)
    clean = nh3.clean(
        raw,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704 - sanitized by nh3 just above


def highlight_css() -> str:
    return str(_FORMATTER.get_style_defs(".md pre"))  # type: ignore[no-untyped-call]
