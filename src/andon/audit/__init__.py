"""The waste audit (issue 14): what andon's own log shows is waste, with the evidence, the
owner, a suggested action and an estimated cost (``andon audit``, ``GET /api/v1/audit``, the
board's ``/audit``)."""
