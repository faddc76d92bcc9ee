"""Executors: a local process per run (default) and in-process (tests, notebooks)."""
