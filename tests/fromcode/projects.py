"""A small project for the tests of running andon from code: a source with a blocking check, a
pipeline that logs a metric and fails on data that says "boom" (retried once, after an hour's
back-off), and its consumer."""

from __future__ import annotations

PIPELINES = '''
import andon

andon.source("raw", location="data/raw/{partition}.csv")
andon.check("raw")(andon.checks.row_count(min=1))


@andon.pipeline(inputs=["raw"], outputs=["clean"], retries=1, retry_delay="1h",
                locations={"clean": "data/clean/{partition}.csv"})
def clean(ctx):
    text = ctx.inputs["raw"].read_text()
    print("cleaning", ctx.partition)
    if "boom" in text:
        raise ValueError("boom in the data")
    ctx.output("clean").write_text(text)
    ctx.set_rows("clean", len(text.splitlines()) - 1)
    ctx.log_metric("chars", len(text))
    ctx.log_params(source="raw")


@andon.pipeline(inputs=["clean"], outputs=["report"],
                locations={"report": "data/report/{partition}.txt"})
def report(ctx):
    ctx.output("report").write_text("ok\\n")
'''

GOOD = "id,amount\n1,10\n2,20\n"
EMPTY = "id,amount\n"  # the blocking check's row_count fails on it
BOOM = "id,amount\n1,boom\n"

