"""Full-text search over the inbox: reference, submitter name and e-mail, and the answers.

PostgreSQL matches a stored generated ``tsvector`` column, ``submission.search_vector``
(``'simple'`` configuration, so names are not stemmed; the string values of the answers
through ``jsonb_to_tsvector``), with a GIN index over it, plus a ``text_pattern_ops`` index
for reference prefixes. The column is stored rather than an expression index because the
bitmap heap scan and the ``LIMIT``-ed index walks evaluate it per row: recomputing the
vector from the JSON there cost a millisecond per ten rows at a million submissions. The
column is not mapped by the ORM (PostgreSQL fills it). :func:`search_index_statements`
gives the DDL; ``create_all`` runs it through the ``after_create`` listener at the bottom
and an Alembic migration calls ``for sql in search_index_statements(): op.execute(sql)``
on PostgreSQL. Every search term is a prefix (``'erik':*`` finds "Erika" and
"erika@example.org").

SQLite (the embedded default, small data) matches each term with ``LIKE`` against the
same columns and the decoded string values of the answers (``json_tree``), so no
auxiliary table has to be kept in step with the submissions.
"""

from __future__ import annotations

import re

from sqlalchemy import DDL, ColumnElement, and_, event, exists, func, literal_column, or_, select, text

from app.submissions.models import Submission

#: The searched document, as the generated column computes it.
SEARCH_DOCUMENT = (
    "(to_tsvector('simple'::regconfig, coalesce(submitter_name, '') || ' ' || coalesce(submitter_email, ''))"
    " || jsonb_to_tsvector('simple'::regconfig, coalesce(answers::jsonb, '{}'::jsonb), '[\"string\"]'))"
)

#: The generated column holding :data:`SEARCH_DOCUMENT`.
SEARCH_COLUMN = "search_vector"
_SEARCH_COLUMN_DDL = (
    f"ALTER TABLE submission ADD COLUMN IF NOT EXISTS {SEARCH_COLUMN} tsvector"
    f" GENERATED ALWAYS AS ({SEARCH_DOCUMENT}) STORED"
)
_SEARCH_INDEX = f"CREATE INDEX IF NOT EXISTS ix_submission_search ON submission USING gin ({SEARCH_COLUMN})"
# On the reference alone: a clerk's query narrows by office, not by commune, and references
# are unique across communes already (they start with the commune's short code).
_REFERENCE_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_submission_reference_prefix ON submission (reference text_pattern_ops)"
)

#: Longest search input considered; the rest is ignored.
MAX_QUERY_LENGTH = 200
#: At most this many terms are combined (each one narrows the result).
MAX_TERMS = 8

_TERM_SPLIT = re.compile(r"\s+")
#: A reference or the beginning of one: the commune's short code, a dash, a digit (``WER-2026-0001``).
REFERENCE_LIKE = re.compile(r"^[A-Za-z0-9]{1,6}-[0-9][0-9-]*$")
#: Characters with a meaning in tsquery syntax or LIKE patterns; dropped from terms.
_TSQUERY_SPECIAL = re.compile(r"[\\'&|!():*<>]+")


def search_index_statements() -> list[str]:
    """PostgreSQL DDL of the search column and indexes (full text and reference prefix)."""
    return [_SEARCH_COLUMN_DDL, _SEARCH_INDEX, _REFERENCE_INDEX]


for _statement in search_index_statements():
    event.listen(Submission.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))


def search_terms(query: str) -> list[str]:
    """The terms of a search input: split at white space, tsquery/LIKE syntax removed."""
    cleaned = _TSQUERY_SPECIAL.sub(" ", query[:MAX_QUERY_LENGTH])
    return [term for term in _TERM_SPLIT.split(cleaned) if term][:MAX_TERMS]


def _like_pattern(term: str) -> str:
    return term.replace("%", "\\%").replace("_", "\\_")


def _tsquery(terms: list[str]) -> str:
    return " & ".join(f"'{term}':*" for term in terms)


def _postgresql_match(terms: list[str]) -> ColumnElement[bool]:
    if len(terms) == 1 and REFERENCE_LIKE.match(terms[0]):
        # A reference (or its beginning) is matched on the reference alone: it is not part of
        # the document, and its parts would make a costly phrase query there.
        prefix = _like_pattern(terms[0].upper()) + "%"
        return Submission.reference.like(prefix, escape="\\")
    document = literal_column(f"{Submission.__tablename__}.{SEARCH_COLUMN}")
    return document.op("@@")(func.to_tsquery(text("'simple'::regconfig"), _tsquery(terms)))


def _sqlite_term(term: str) -> ColumnElement[bool]:
    pattern = "%" + _like_pattern(term.lower()) + "%"
    tree = func.json_tree(Submission.answers).table_valued("type", "value").alias("answer_value")
    in_answers = exists(
        select(literal_column("1"))
        .select_from(tree)
        .where(tree.c.type == "text", func.lower(tree.c.value).like(pattern, escape="\\"))
    )
    return or_(
        func.lower(Submission.reference).like(pattern, escape="\\"),
        func.lower(Submission.submitter_name).like(pattern, escape="\\"),
        func.lower(Submission.submitter_email).like(pattern, escape="\\"),
        in_answers,
    )


def search_clause(query: str, dialect: str) -> ColumnElement[bool] | None:
    """A WHERE clause matching ``query`` (every term), or ``None`` when it has no terms."""
    terms = search_terms(query)
    if not terms:
        return None
    if dialect == "postgresql":
        return _postgresql_match(terms)
    return and_(*(_sqlite_term(term) for term in terms))
