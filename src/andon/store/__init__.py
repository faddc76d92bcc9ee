"""The event log and read models on SQL (SQLite / PostgreSQL), with versioned migrations."""
