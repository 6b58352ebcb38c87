"""The SQL a query compiles to: one GROUP BY over the real columns for a summarize of a mapped property, no
JSON built when no whole document is read, branches removed by ``where type``, constants only as bound
parameters."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Select
from sqlalchemy.dialects import postgresql, sqlite

from containerguard.query.runner import compile_query

DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.psycopg.dialect()}  # type: ignore[no-untyped-call]
BENCH = "securityresources | summarize count() by tostring(properties.status.severity)"
SUB = "containerguard/assessments/subassessments"


def sql(query: str, dialect: str) -> tuple[str, dict[str, Any]]:
    statement: Select[Any] = compile_query(query, dialect)[0]
    compiled = statement.compile(dialect=DIALECTS[dialect])
    return str(compiled), dict(compiled.params)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_summarize_of_a_mapped_property_is_one_group_by_on_columns(dialect: str) -> None:
    for query in (BENCH, f"securityresources | where type == '{SUB}' | summarize count() by "
                         "tostring(properties.status.severity)"):
        text, _ = sql(query, dialect)
        assert text.count("GROUP BY") == 1
        assert "json_object" not in text and "jsonb_build_object" not in text  # no document is built
        assert "findings.severity" in text
        assert "JOIN images" not in text  # the findings branch reads no image column


@pytest.mark.parametrize("dialect", DIALECTS)
def test_where_type_keeps_only_matching_branches(dialect: str) -> None:
    text, _ = sql(f"securityresources | where type == '{SUB}' | summarize count() by "
                  "tostring(properties.status.severity)", dialect)
    assert text.count("UNION ALL") == 2  # image findings, host controls, cluster checks
    assert "FROM alerts" not in text and "FROM images" not in text
    text, _ = sql("resources | where type == 'containerguard/images' | project name", dialect)
    assert "UNION" not in text and "FROM images" in text and "hosts" not in text


@pytest.mark.parametrize("dialect", DIALECTS)
def test_filters_run_on_the_real_columns(dialect: str) -> None:
    text, params = sql("securityresources | where properties.additionalData.softwareDetails.packageName == "
                       "'openssl' | count", dialect)
    assert "findings.package_name = " in text
    assert "openssl" in params.values()
    text, _ = sql("securityresources | where type == 'containerguard/alerts' and "
                  "todatetime(properties.last_seen) > ago(1d) | count", dialect)
    assert "alerts.last_seen > " in text  # the timestamp column, not its ISO text


@pytest.mark.parametrize("dialect", DIALECTS)
def test_whole_documents_only_when_asked(dialect: str) -> None:
    builder = "json_object" if dialect == "sqlite" else "jsonb_build_object"
    assert builder not in sql("securityresources | project id, properties.status.code", dialect)[0]
    assert builder in sql("securityresources | project id, properties", dialect)[0]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("payload", ["'; DROP TABLE images; --", "x' OR '1'='1", "\"; DELETE FROM findings; --",
                                     "*/ SELECT 1 /*"])
def test_strings_are_bound_parameters(dialect: str, payload: str) -> None:
    escaped = payload.replace("\\", "\\\\").replace("'", "\\'")
    text, params = sql(f"resources | where name == '{escaped}' | extend x = strcat(name, '{escaped}')", dialect)
    assert payload in params.values()
    assert "DROP" not in text and "DELETE" not in text and "'1'='1" not in text
