"""A minimal andon project: one source, two pipelines.

Try: andon notify events 2026-01-05   (after writing data/events/2026-01-05.csv)
"""

import andon

andon.source("events", partitions="daily", owner="you@example.com",
             description="raw events, one CSV per day", location="data/events/{partition}.csv")


@andon.pipeline(inputs=["events"], outputs=["event_counts"], deadline="6h",
                locations={"event_counts": "data/event_counts/{partition}.txt"})
def count_events(ctx):
    """Count the lines of the day's events."""
    path = ctx.inputs["events"]
    lines = path.read_text().splitlines() if path.exists() else []
    ctx.output("event_counts").write_text(f"{len(lines)}\n")
    ctx.set_rows("event_counts", 1)


# a shell step: inputs and outputs arrive as ANDON_INPUT_<NAME> / ANDON_OUTPUT_<NAME>
andon.pipeline("weekly_total", command="python3 sum_counts.py {partition}",
               inputs=[andon.window("event_counts", 7)], outputs=["weekly_total"],
               locations={"weekly_total": "data/weekly_total/{partition}.txt"})
