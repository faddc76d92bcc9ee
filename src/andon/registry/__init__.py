"""The registry: one catalog of data sets, pipelines, models, services and libraries.

``entries`` holds the record (``Entry``) and the entries andon derives from the project's graph;
``declared`` checks an entry's table and reads the entries of the project's ``catalog.toml``;
``stored`` is an entry as the store's ``catalog`` table (``andon.store.catalog``) and the API's
event hold it; ``search`` is the ranking contract and SQLite's backend (FTS5 in memory),
``pgsearch`` PostgreSQL's (full text in the database), both read models of that table."""
