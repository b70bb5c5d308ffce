"""Untrusted markdown stays inert, math and code survive, and tasking's field paths find their
form fields."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from starlette.datastructures import FormData

from cohort_workbench.web import forms
from cohort_workbench.web.markdown import render

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "![beacon](https://tracker.example/pixel.png)",
    "<iframe src='https://evil.example'></iframe>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<div style="background:url(https://evil.example)">s</div>',
    "<svg onload=alert(1)>",
]


class _Elements(HTMLParser):
    """Every element and attribute the browser would build from the HTML (text is only text)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_renders_inert(text: str) -> None:
    parser = _Elements()
    parser.feed(str(render(text)))
    for tag, attrs in parser.found:
        assert tag not in {"script", "img", "iframe", "svg", "object", "embed", "style"}, tag
        for name, value in attrs:
            assert not name.startswith("on") and name != "style", (tag, name)
            if name in ("href", "src"):
                assert (value or "").startswith(("https://", "http://", "mailto:")), (tag, value)


def test_math_code_and_links_survive() -> None:
    html = str(
        render("Energy $E=mc^2$\n\n$$\\int_0^1 x\\,dx$$\n\n```python\nprint('hi')\n```\n\n[docs](https://example.org)")
    )
    assert '<span class="math inline">E=mc^2</span>' in html
    assert '<div class="math block">' in html
    assert 'class="hl-nb"' in html, "highlighted by Pygments"
    assert 'href="https://example.org"' in html and "noopener" in html


def test_form_fields_to_payload_and_back() -> None:
    form = FormData(
        [
            ("steps-0-kind", "thought"),
            ("steps-0-content", "look it up"),
            ("steps-2-kind", "action"),
            ("steps-2-tool_name", "search"),
            ("steps-2-tool_arguments_json", '{"q": "x"}'),
            ("final_answer", "42"),
            ("ignored", "x"),
        ]
    )
    fields = forms.fields_from_form(form, "trajectory")
    assert "ignored" not in fields
    payload, errors = forms.payload_of(fields, "trajectory")
    assert errors == {}
    assert [s.kind for s in payload.trajectory.steps] == ["thought", "action"], "a removed step leaves no gap"
    assert payload.trajectory.final_answer == "42"

    ranked, errors = forms.payload_of({"ranking": ["b", "a"], "score.q": "x", "rationale": ""}, "preference")
    assert list(ranked.preference.ranking) == ["b", "a"] and errors == {"score.q": "Choose a score on the scale."}

    assert forms.form_field("payload.sft.response") == "response"
    assert forms.form_field("payload.rubric_grade.scores[clarity]") == "score.clarity"
    assert forms.form_field("payload.trajectory.steps[3].kind") == "steps-3-kind"
    assert forms.form_field("payload.trajectory.steps[3]") == "steps-3"
    assert forms.form_field("payload") == ""


def test_money_follows_each_currencys_minor_unit() -> None:
    from cohort_workbench.web.shell import money

    assert money(123456, "EUR") == "1,234.56 EUR"
    assert money(-5, "EUR") == "-0.05 EUR"
    assert money(1500, "JPY") == "1,500 JPY"
    assert money(1234, "KWD") == "1.234 KWD"
