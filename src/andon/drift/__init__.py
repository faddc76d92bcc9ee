"""Drift computed from compact, mergeable profiles (issue 13, the ``drift`` extra).

``profile`` builds a ``Profile`` of a partition's columns (counts, nulls, a fixed-edge histogram
or the top categories, min/max/mean and a capped uniform sample) and merges profiles;
``codec`` writes and reads their compact JSON form with its limits; ``measures`` compares a
partition's profile with a reference's (PSI, Jensen-Shannon, KS / chi-square p-values,
Benjamini-Hochberg) into a ``DriftReport``. ``limits`` holds the bounds, the bands and
``DriftError``.

numpy (``pip install 'andon[drift]'``) is imported by ``profile``, ``codec`` and ``measures``
only, and scipy only when a p-value is computed: this package's ``__init__`` and ``limits``
import without either, and nothing of andon's core imports this package.
"""
