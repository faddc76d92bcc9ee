"""Markup in a promotion's reason (free text, through the API) is text on the model's page and
in its charts' titles, never markup."""

from __future__ import annotations

import httpx

from andon.serve.up import Line
from tests.web.test_model_page import HOSTILE, served  # noqa: F401 (the fixture)


def test_reason_with_markup_is_escaped(served: tuple[Line, httpx.Client]) -> None:  # noqa: F811
    _, client = served
    page = client.get("/catalog/model/churn").text
    assert HOSTILE not in page and 'id="inj-reason"' not in page
    assert "<title>rolled back to version 1 by " in page
    assert "&lt;script id=&#34;inj-reason&#34;&gt;" in page
