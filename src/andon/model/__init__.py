"""The domain: assets, partitions, pipelines, pools and the validated graph (no I/O)."""

import sys

from andon import _ModelPackage  # the root package's: called, andon.model declares a model

sys.modules[__name__].__class__ = _ModelPackage
