"""The ``andon_project`` fixture, imported as a user's conftest.py may (docs/testing.md)."""

from andon.testing.fixtures import andon_project

__all__ = ["andon_project"]
