"""The runner on both databases: writes refused inside a query's transaction, the time limit, and the
connection back to normal (writable, no handler) afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from querydata import Estate, estate
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError
from test_query_api import SLOW

from containerguard.query.errors import QueryError, QueryTimeout
from containerguard.query.runner import _read_only, decode, run_query, timespan_text
from containerguard.store.tables import ImageRow, StateRow


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    with estate(request.param, Path(tmp_path_factory.mktemp("runner"))) as e:
        yield e


def test_the_query_transaction_refuses_writes(seeded: Estate) -> None:
    with seeded.store.engine.connect() as conn, _read_only(conn, 5.0), pytest.raises(DBAPIError):
        conn.execute(delete(ImageRow))
    with seeded.store.session() as s:
        assert s.scalar(select(func.count()).select_from(ImageRow)) == 3


def test_time_limit(seeded: Estate) -> None:
    with pytest.raises(QueryTimeout, match=r"longer than 0\.001 s"):
        run_query(seeded.store.engine, SLOW, timeout=0.001)
    # the pooled connections are usable again, for reading and for writing
    assert run_query(seeded.store.engine, "resources | count").rows == [[9]]
    with seeded.store.session() as s:
        s.merge(StateRow(key="query-test", value="written"))
    with seeded.store.session() as s:
        assert s.get(StateRow, "query-test") is not None
    with pytest.raises(QueryError, match="time limit"):
        run_query(seeded.store.engine, "resources", timeout=0)


def test_time_limit_with_regular_expressions(seeded: Estate) -> None:
    """On SQLite the regex functions are Python: they stop the statement once the deadline has passed."""
    slow = SLOW.replace("| count", "| where name matches regex 'zz+z' or extract('(q)', 1, id) == 'q' | count")
    with pytest.raises(QueryTimeout):
        run_query(seeded.store.engine, slow, timeout=0.001)
    assert run_query(seeded.store.engine, "resources | where name matches regex 'team' | count").rows == [[2]]


def test_the_slow_query_finishes_with_time(seeded: Estate) -> None:
    assert run_query(seeded.store.engine, SLOW, timeout=60).rows == [[3**5 + 4**5 + 15**5]]


def test_decoding() -> None:
    assert timespan_text(90061.5) == "1.01:01:01.5000000"
    assert timespan_text(-60) == "-00:01:00"
    from containerguard.query.compiler import OutputColumn

    assert decode(None, OutputColumn("s", "string", "string")) == ""
    assert decode(None, OutputColumn("d", "dynamic", "json")) is None
    assert decode("2024-01-02 03:04:05.000000", OutputColumn("t", "datetime", "datetime")) == "2024-01-02T03:04:05Z"
    assert decode(1, OutputColumn("b", "bool", "bool")) is True
