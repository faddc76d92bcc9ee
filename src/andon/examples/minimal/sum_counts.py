"""Sum the daily counts of the last 7 days (a shell step of the minimal example)."""

import os
import sys
from pathlib import Path

paths = os.environ["ANDON_INPUT_EVENT_COUNTS"].split(os.pathsep)
total = sum(int(Path(p).read_text().strip() or 0) for p in paths)
out = Path(os.environ["ANDON_OUTPUT_WEEKLY_TOTAL"])
out.write_text(f"{total}\n")
print(f"{sys.argv[1]}: {total} events over {len(paths)} day(s)")
