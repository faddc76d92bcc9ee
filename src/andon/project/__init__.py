"""A project: what users write (``andon.source``, ``@andon.pipeline``), its ``andon.toml``, the
settings, and loading it all into a validated graph."""
