"""`andon logs RUN` prints a log longer than one page whole, page by page, from a running server
(through `X-Andon-Next-Offset`) and from the store when none runs."""

from __future__ import annotations

from andon.serve.up import Line
from tests.cli.test_commands import andon
from tests.web.conftest import running

LINES = 30_000  # about 2.6 MB: three pages of 1 MB

PIPELINE = f'''
import andon

andon.source("raw", partitions="daily")

@andon.pipeline(inputs=["raw"], outputs=["out"])
def chatty(ctx):
    for i in range({LINES}):
        print(f"line {{i:06d}} " + "x" * 72)
    ctx.output("out").write_text("done")
'''


def _whole(text: str) -> None:
    lines = [line for line in text.splitlines() if line.startswith("line ")]
    assert len(lines) == LINES
    assert [int(line.split()[1]) for line in lines] == list(range(LINES)), "in order, none twice"


def test_a_log_longer_than_a_page_is_printed_whole_online_and_offline(make_project) -> None:  # type: ignore[no-untyped-def]
    root = make_project(PIPELINE)
    (root / "data/raw").mkdir(parents=True)
    (root / "data/raw/2026-01-01.csv").write_text("x\n")
    line: Line
    with running(root, executor="local") as line:
        line.announce("raw", "2026-01-01", "notify")
        assert line.runner.quiet(60)
        run_id = line.service.runs("chatty")[0]["run_id"]
        assert line.service.run(run_id)["status"] == "succeeded"
        _whole(andon(root, "logs", run_id).stdout)
    _whole(andon(root, "logs", run_id).stdout)  # no server: read from the run's folder
