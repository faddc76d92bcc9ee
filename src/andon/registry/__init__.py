"""The registry: one catalog of data sets, pipelines, models, services and libraries.

``entries`` holds the record (``Entry``) and the entries andon derives from the project's graph;
``declared`` reads the entries a project declares in its ``catalog.toml``; ``search`` is the
index that ranks them (SQLite FTS5), a read model rebuilt from those two sources."""
