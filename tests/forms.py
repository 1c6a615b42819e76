"""HTML forms as a browser sends them, for tests that walk through pages."""

from __future__ import annotations

import html.parser


class Form(html.parser.HTMLParser):
    """The fields of the first form of a page posting to ``action``: hidden and text
    inputs, checked boxes, selected options."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.fields, self._in, self._select = action, {}, False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._in = not self.fields and a.get("action") == self.action
        elif self._in and tag == "input" and a.get("name"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.fields[a["name"]] = a.get("value", "")
        elif self._in and tag == "select":
            self._select = a.get("name")
        elif self._in and tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._in = False
        elif tag == "select":
            self._select = None


def form_fields(page: str, action: str) -> dict[str, str]:
    """What the form posting to ``action`` sends as the page shows it."""
    form = Form(action)
    form.feed(page)
    return form.fields
