"""``andon up`` and ``andon demo``: the live shell, the file watcher and the HTTP server wired
into one process."""
