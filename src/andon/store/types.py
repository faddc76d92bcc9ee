"""Column types of the store whose PostgreSQL form needs SQLAlchemy's PostgreSQL dialect, which
is imported only when a PostgreSQL database is used: an andon on SQLite never loads it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class SearchDocument(TypeDecorator[str]):
    """A full-text document: ``TSVECTOR`` on PostgreSQL, ``TEXT`` elsewhere (the same DDL as
    ``Text().with_variant(TSVECTOR(), "postgresql")``, without the import on SQLite)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import TSVECTOR

            return dialect.type_descriptor(TSVECTOR())
        return dialect.type_descriptor(Text())
