"""The bounds of a profile, the drift bands and the drift error, spelled once.

Pure standard library (no numpy), so that a caller can name a limit or catch ``DriftError``
without the ``drift`` extra installed.
"""

from __future__ import annotations

from andon.model.errors import AndonError

# -- what a profile may hold (the loader refuses more; the builder never makes more) ------------
MAX_COLUMNS = 1_000
MAX_SAMPLE = 5_000  # uniform sample of a numeric column's values, for KS
MAX_BINS = 1_000  # histogram bins of a numeric column (edges: MAX_BINS - 1 inner edges)
DEFAULT_BINS = 10  # deciles of the reference (the usual PSI binning)
MAX_TOP_K = 256  # categories counted by name; the rest are one "other" count
DEFAULT_TOP_K = 50
MAX_CATEGORY_CHARS = 64  # a longer category is cut to its first 64 characters
MAX_ROWS = 2**53  # counts stay exact in a JSON number (a double)
# numeric column: ~54 KB (its sample, base64 float64) + bins; categorical: <= ~25 KB.
MAX_PROFILE_BYTES = 80 * 1024 * 1024  # 1,000 columns of the largest kind, and some room

# -- the bands (PSI; Evidently's and NannyML's usual thresholds) and the tests ---------------------
PSI_AMBER = 0.1
PSI_RED = 0.25
PSI_EPSILON = 1e-4  # the share given to an empty bin, so that PSI stays finite
FDR = 0.05  # Benjamini-Hochberg false discovery rate across the columns of one report

GREEN = "green"
AMBER = "amber"
RED = "red"
BANDS = (GREEN, AMBER, RED)  # worst last


def band_of(psi: float) -> str:
    """The band of a PSI value: green below ``PSI_AMBER``, red from ``PSI_RED``."""
    if psi >= PSI_RED:
        return RED
    return AMBER if psi >= PSI_AMBER else GREEN


class DriftError(AndonError):
    """A profile or a comparison that cannot be made: an empty partition, a column missing from
    the reference, a NaN or a count out of bounds in a profile, a profile over its limits. The
    message names the column; ``where`` names the profile (its partition, when known)."""

    http_status = 422
