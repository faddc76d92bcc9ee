"""An access request end to end in a real browser (the machine's Chromium, as in
test_browser.py): search from the board, open the data set, file a request through its form as
a viewer, approve it on /access-requests as an operator, and see the requester listed as a
registered consumer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from andon.serve.up import Line
from tests.conftest import ProjectFactory
from tests.web.conftest import running
from tests.web.test_browser import Page, browser  # noqa: F401  (the fixture)

PIPELINES = """
import andon

andon.source("crm_contacts", owner="crm@example.com", description="customer contacts",
             location="data/crm/{partition}.csv",
             access={"note": "personal data: say what for",
                     "form": {"type": "object", "required": ["purpose", "team"],
                              "properties": {
                                  "purpose": {"type": "string", "maxLength": 500,
                                              "description": "what the data is for"},
                                  "team": {"type": "string", "enum": ["bi", "ml"]},
                                  "rows": {"type": "integer", "minimum": 1},
                                  "pii_training": {"type": "boolean",
                                                   "title": "PII training done"}}}})

@andon.pipeline(inputs=["crm_contacts"], outputs=["contacts_clean"])
def clean(ctx):
    pass
"""


@pytest.fixture
def served(make_project: ProjectFactory) -> Iterator[Line]:
    with running(make_project(PIPELINES)) as line:
        yield line


def test_request_and_approve_access_in_the_browser(browser, served: Line) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    viewer = Page(browser, served, "viewer")
    page = viewer.open("/search?q=crm")
    page.click("ul.found a[href='/assets/crm_contacts']")
    page.wait_for_url(f"{served.url}/assets/crm_contacts")
    page.click("a:has-text('Request access')")
    page.wait_for_url(f"{served.url}/access-requests/new?asset=crm_contacts")
    page.fill("textarea[name='answers.purpose']", "churn model features")
    page.select_option("select[name='answers.team']", "ml")
    page.fill("input[name='answers.rows']", "1000")
    page.check("input[name='answers.pii_training']")
    page.fill("textarea[name=reason]", "the churn model needs contact history")
    page.click("button[data-action=request-access]")
    page.wait_for_selector("form.access-form output:has-text('crm_contacts:1')", timeout=5000)
    viewer.shot("access-request-form")
    (asked,) = served.service.access.requests()
    assert asked["requester"] == "viewer"
    assert asked["answers"] == {"purpose": "churn model features", "team": "ml", "rows": 1000,
                                "pii_training": True}
    # a viewer who owns nothing sees the request but may not decide it
    page = viewer.open("/access-requests")
    assert page.locator("button[data-action=approve]").count() == 0

    operator = Page(browser, served, "operator")
    page = operator.open("/access-requests")
    row = page.locator("tr[data-request='crm_contacts:1']")
    row.locator("input[name=note]").fill("approved for the churn model")
    row.locator("button[data-action=approve]").click()
    row.locator("output:has-text('approved')").wait_for(timeout=5000)
    assert served.runner.drain()
    page = operator.open("/access-requests")
    assert page.locator("tr[data-request='crm_contacts:1']").get_attribute("data-status") == \
        "approved"
    consumer = page.locator("table.consumers tr[data-consumer='viewer']")
    assert consumer.count() == 1 and "crm_contacts" in consumer.inner_text()
    operator.shot("access-requests-approved")
    assert viewer.errors == [] and operator.errors == []
    viewer.close()
    operator.close()
