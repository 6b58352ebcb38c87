"""Parsing: the grammar's forms, and errors that name the line, the column and the offending token. Attempts
to reach SQL (statement separators, SQL comments, stray quotes) are plain syntax errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from containerguard.query import ast
from containerguard.query.errors import QueryError
from containerguard.query.parser import parse
from containerguard.query.runner import compile_query


def test_a_pipeline_of_operators() -> None:
    p = parse("SecurityResources | where a == 1 and b contains 'x' | project c, d = e.f['g'][0] | take 5 "
              "| summarize n = count() by bin(t, 1d) | order by n asc nulls last | top 3 by n")
    assert p.table == "SecurityResources"
    assert [type(op).__name__ for op in p.ops] == ["Where", "Project", "Take", "Summarize", "Sort", "Top"]
    project = p.ops[1]
    assert isinstance(project, ast.Project)
    assert project.items[1].name == "d"
    assert project.items[1].expr == ast.Member(obj=ast.Member(obj=ast.Member(obj=ast.Column(name="e"), key="f"),
                                                              key="g"), key=0)
    sort = p.ops[4]
    assert isinstance(sort, ast.Sort) and sort.keys[0].descending is False and sort.keys[0].nulls_first is False


@pytest.mark.parametrize(("text", "value", "kind"), [
    ("'it\\'s'", "it's", "string"), ('"tab\\there"', "tab\there", "string"), ("@'c:\\x'", "c:\\x", "string"),
    ('@"say ""hi"""', 'say "hi"', "string"), ("42", 42, "long"), ("-3", -3, "long"), ("1.5", 1.5, "real"),
    ("1e3", 1000.0, "real"), ("true", True, "bool"), ("1d", timedelta(days=1), "timespan"),
    ("90m", timedelta(minutes=90), "timespan"), ("10s", timedelta(seconds=10), "timespan"),
    ("250ms", timedelta(milliseconds=250), "timespan"), ("1.5h", timedelta(minutes=90), "timespan"),
    ("datetime(2024-01-02)", datetime(2024, 1, 2, tzinfo=UTC), "datetime"),
    ("datetime(2024-01-02T03:04:05Z)", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "datetime"),
    ("dynamic(['a', 1, null, {\"k\": true}])", ["a", 1, None, {"k": True}], "dynamic"),
])
def test_literals(text: str, value: object, kind: str) -> None:
    where = parse(f"resources | where x == {text}").ops[0]
    assert isinstance(where, ast.Where) and isinstance(where.predicate, ast.Binary)
    literal = where.predicate.right
    assert isinstance(literal, ast.Literal)
    assert (literal.value, literal.type) == (value, kind)


def test_keywords_are_names_where_a_name_is_expected() -> None:
    where = parse("resources | where properties.kind == 'Pod' and properties.count > 1").ops[0]
    assert isinstance(where, ast.Where)
    parse("resources | extend by = 1, on = 2 | project by, on")


ERRORS = [
    # (query, line, column, token)
    ("resources | where x == 1; drop table images", 1, 25, ";"),
    ("resources | where x == 1 -- drop table images", 1, 26, "--"),
    ("resources | where x == 1 /* comment */", 1, 26, "/*"),
    ("resources | where name == '--' and x == 1 // a -- comment\n| take 1 --", 2, 10, "--"),
    ("resources | where name == 'x' or 'a'='a", 1, 37, "="),
    ("resources | where name == 'unterminated", 1, 27, "'"),
    ("resources | where name == \"x\"\" or 1=1", 1, 30, "\""),
    ("resources\n| where x ==\n| take 1", 3, 1, "|"),
    ("resources | where x == 1 union select * from images", 1, 26, "union"),
    ("resources | project", 1, 20, ""),
    ("resources | takee 5", 1, 13, "takee"),
    ("resources | where x = 1", 1, 21, "="),
    ("resources | where x == datetime(yesterday)", 1, 24, "datetime(yesterday)"),
    ("resources | join kind=sideways (resources) on id", 1, 23, "sideways"),
    ("", 1, 1, ""),
]


@pytest.mark.parametrize(("query", "line", "column", "token"), ERRORS, ids=[e[0][:40] or "empty" for e in ERRORS])
def test_syntax_errors_name_their_position(query: str, line: int, column: int, token: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    error = caught.value
    assert (error.line, error.column) == (line, column), str(error)
    assert error.token == token
    message = str(error)
    assert "\n" not in message and f"{line}:{column}" in message


COMPILE_ERRORS = [
    ("securityrezources | take 1", 1, 1, "unknown table"),
    ("resources | where nme == 'x'", 1, 19, "unknown column 'nme'"),
    ("resources | where Name == 'x'", 1, 19, "did you mean 'name'"),
    ("resources | project x = nosuch(name)", 1, 25, "unknown function nosuch()"),
    ("resources | where name matches regex '('", 1, 38, "bad regular expression"),
    ("resources | project extract('(a)', 2, name)", 1, 36, "capture group"),
    ("resources | summarize tostring(name)", 1, 23, "aggregate"),
    ("resources | where count() > 1", 1, 19, "aggregate"),
    ("resources | project name + 1", 1, 21, "strcat"),
    ("resources | project a = 1, a = 2", 1, 28, "projected twice"),
    ("resources | where ago(name) > now()", 1, 23, "constant"),
    ("resources | join (resources) on nosuch", 1, 33, "no column 'nosuch'"),
]


@pytest.mark.parametrize(("query", "line", "column", "text"), COMPILE_ERRORS, ids=[e[3] for e in COMPILE_ERRORS])
@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_compile_errors_name_their_position(query: str, line: int, column: int, text: str, dialect: str) -> None:
    with pytest.raises(QueryError) as caught:
        compile_query(query, dialect)
    assert (caught.value.line, caught.value.column) == (line, column), str(caught.value)
    assert text in str(caught.value) and "\n" not in str(caught.value)


def test_a_query_too_long_is_refused() -> None:
    with pytest.raises(QueryError, match="longer than"):
        parse("resources | where " + " or ".join(["name == 'x'"] * 3000))
