"""The live shell: the runner (the store, the engine, an executor and a clock in one loop), the
offline write path, the service the CLI and the API share, and the file watcher."""
