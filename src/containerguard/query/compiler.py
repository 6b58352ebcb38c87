"""A pipeline to one SQL SELECT.

A table starts as one :class:`Stage` per branch (resource type). The leading row-wise operators
(where, extend, project, project-away) are compiled into every branch, so filters run on the real
columns and a ``where type == ...`` that is false for a branch removes it. At the first other operator
the surviving branches become one UNION ALL subquery carrying only what the rest of the query reads
(see :mod:`.needs`); a single surviving branch is used as it is. Each further operator either adds to
the current SELECT (a filter, an order, a limit, a projection) or wraps it in a subquery.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    and_,
    exists,
    false,
    func,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.sql import visitors
from sqlalchemy.sql.schema import Column as SchemaColumn

from . import ast
from .catalog import ID, NAME, PROPERTIES, TYPE, Table, find_table, tables
from .dialects import Dialect
from .errors import QueryError
from .expressions import Scope, error
from .functions import AGGREGATES, aggregate_name
from .needs import ALL, WHOLE, AllColumns, Needs, derived_name, join_right_needs, names_of, pipeline_needs
from .values import (
    BOOL,
    DATETIME,
    DYNAMIC,
    JSON_FORM,
    LONG,
    NUMERIC,
    REAL,
    STRING,
    AnyVal,
    DocVal,
    Path,
    PathsVal,
    Val,
)

ROW_WISE = (ast.Where, ast.Extend, ast.Project, ast.ProjectAway)


@dataclass
class Stage:
    """A SELECT being built: where rows come from, the columns (name -> value) and clauses."""

    source: FromClause
    cols: dict[str, AnyVal]
    where: list[ColumnElement[Any]] = field(default_factory=list)
    lazy_joins: list[tuple[FromClause, ColumnElement[Any]]] = field(default_factory=list)
    group_by: list[ColumnElement[Any]] | None = None
    order: list[ColumnElement[Any]] = field(default_factory=list)
    limit: int | None = None
    distinct: bool = False
    aggregated: bool = False

    def select(self, d: Dialect, items: list[ColumnElement[Any]]) -> Select[Any]:
        """The SELECT of ``items`` (labelled ``c0``, ``c1``…) with this stage's clauses."""
        labelled = [e.label(f"c{i}") for i, e in enumerate(items)] or [d.long(1).label("c0")]
        query = select(*labelled)
        used = _tables_in([*items, *self.where, *self.order, *(self.group_by or [])])
        source = self.source
        for table, on in self.lazy_joins:
            if table in used:
                source = source.join(table, on)
        query = query.select_from(source)
        if self.where:
            query = query.where(and_(*self.where))
        if self.group_by:
            query = query.group_by(*self.group_by)
        if self.order:
            query = query.order_by(*self.order)
        if self.limit is not None:
            query = query.limit(self.limit)
        if self.distinct:
            query = query.distinct()
        return query


def _tables_in(exprs: Iterable[ColumnElement[Any]]) -> set[Any]:
    found: set[Any] = set()
    for expr in exprs:
        for element in visitors.iterate(expr):
            if isinstance(element, SchemaColumn) and element.table is not None:
                found.add(element.table)
    return found


@dataclass(frozen=True)
class OutputColumn:
    """A result column: its name, Kusto type, and how its SQL value is decoded."""

    name: str
    type: str
    form: str


class Compiler:
    """Compiles pipelines for one dialect; ``now`` is the query's single notion of the current time."""

    def __init__(self, d: Dialect, now: datetime) -> None:
        self.d = d
        self.now = now

    def scope(self, stage: Stage) -> Scope:
        """An expression compiler over the stage's columns."""
        return Scope(self.d, stage.cols, self.now)

    # ------------------------------------------------------------ pipelines

    def compile(self, pipeline: ast.Pipeline, row_limit: int) -> tuple[Select[Any], list[OutputColumn]]:
        """The final SELECT (at most ``row_limit`` rows) and its columns."""
        stage = self.pipeline(pipeline, ALL)
        if stage.limit is None or stage.limit > row_limit:
            stage = replace(stage, limit=row_limit)
        return self.finish(stage)

    def pipeline(self, pipeline: ast.Pipeline, final: Needs) -> Stage:
        """The stage a pipeline ends in."""
        table = find_table(pipeline.table)
        if table is None:
            raise error(f"unknown table {pipeline.table!r} (tables: {', '.join(sorted(tables()))})", pipeline.pos)
        needs = pipeline_needs(pipeline.ops, final)
        branches = self.branches(table)
        index = 0
        while index < len(pipeline.ops) and isinstance(pipeline.ops[index], ROW_WISE):
            op = pipeline.ops[index]
            kept = []
            for branch in branches:
                out = self.row_wise(op, branch, needs[index])
                if out is not None:
                    kept.append(out)
            if not kept:  # no branch passes: keep one that returns no rows, so the columns stay known
                kept = [replace(branches[0], where=[*branches[0].where, false()])]
            branches = kept
            index += 1
        stage = branches[0] if len(branches) == 1 else self.union(branches, needs[index])
        for position in range(index, len(pipeline.ops)):
            stage = self.operator(pipeline.ops[position], stage, needs[position], needs[position + 1])
        return stage

    def branches(self, table: Table) -> list[Stage]:
        """One stage per source of the table."""
        out = []
        for source in table.sources:
            sql = source.build(self.d)
            cols: dict[str, AnyVal] = {
                ID: Val(sql.id, STRING), NAME: Val(sql.name, STRING),
                TYPE: self.d.literal(source.type, STRING), PROPERTIES: DocVal(sql.properties)}
            out.append(Stage(sql.base, cols, list(sql.where), list(sql.lazy_joins)))
        return out

    # ------------------------------------------------------------ materialising values at subquery boundaries

    def prepare(self, value: AnyVal, need: frozenset[Path] | None) -> Val | PathsVal:
        """What of ``value`` a subquery carries: the whole value, or the needed paths of a document."""
        scope = Scope(self.d, {}, self.now)
        if isinstance(value, Val):
            return value
        if need is WHOLE:
            whole = Val(scope.json(value), DYNAMIC, JSON_FORM)
            return PathsVal(whole, dict(value.paths) if isinstance(value, PathsVal) else {})
        assert need is not None
        paths: dict[Path, Val] = {}
        for path in sorted(need, key=lambda p: tuple(map(str, p))):
            found = scope.path(value, path, ast.Expr())
            paths[path] = scope.plain(found)
        return PathsVal(None, paths)

    @staticmethod
    def parts(value: Val | PathsVal) -> list[ColumnElement[Any]]:
        """The SQL columns carrying a prepared value."""
        if isinstance(value, Val):
            return value.parts()
        out = value.whole.parts() if value.whole is not None else []
        for path in value.paths:
            out += value.paths[path].parts()
        return out

    @staticmethod
    def rebuild(value: Val | PathsVal, columns: list[ColumnElement[Any]], keep_const: bool = True) -> Val | PathsVal:
        """A prepared value over a subquery's columns (consumed from the front of ``columns``)."""
        if isinstance(value, Val):
            count = len(value.parts())
            taken, columns[:] = columns[:count], columns[count:]
            return value.rebuild(taken, keep_const)
        whole = None
        if value.whole is not None:
            whole = Compiler.rebuild(value.whole, columns, keep_const)
        paths = {path: Compiler.rebuild(v, columns, keep_const) for path, v in value.paths.items()}
        assert whole is None or isinstance(whole, Val)
        return PathsVal(whole, {p: v for p, v in paths.items() if isinstance(v, Val)})

    @staticmethod
    def _need(needs: Needs, name: str) -> tuple[bool, frozenset[Path] | None]:
        if isinstance(needs, AllColumns):
            return True, WHOLE
        if name not in needs:
            return False, WHOLE
        return True, needs[name]

    def wrap(self, stage: Stage, needs: Needs) -> Stage:
        """The stage as a subquery carrying what ``needs`` asks for."""
        prepared: dict[str, Val | PathsVal] = {}
        for name, value in stage.cols.items():
            wanted, need = self._need(needs, name)
            if wanted:
                prepared[name] = self.prepare(value, need)
        items = [part for value in prepared.values() for part in self.parts(value)]
        sub = stage.select(self.d, items).subquery()
        columns: list[ColumnElement[Any]] = [sub.c[f"c{i}"] for i in range(len(items))]
        cols: dict[str, AnyVal] = {name: self.rebuild(value, columns) for name, value in prepared.items()}
        return Stage(sub, cols)

    def union(self, branches: list[Stage], needs: Needs) -> Stage:
        """The branches as one UNION ALL subquery with a common representation of each column."""
        names = list(branches[0].cols)
        per_branch: list[dict[str, Val | PathsVal]] = [{} for _ in branches]
        for name in names:
            wanted, need = self._need(needs, name)
            if not wanted:
                continue
            values = [b.cols[name] for b in branches]
            prepared = [self.prepare(v, need) for v in values]
            if any(isinstance(p, PathsVal) for p in prepared) and not all(isinstance(p, PathsVal) for p in prepared):
                prepared = [self.prepare(v, WHOLE) for v in values]
                prepared = [p.whole if isinstance(p, PathsVal) and p.whole is not None else p for p in prepared]
            unified = self.unify_prepared(prepared)
            for i, value in enumerate(unified):
                per_branch[i][name] = value
        selects = [b.select(self.d, [part for v in per_branch[i].values() for part in self.parts(v)])
                   for i, b in enumerate(branches)]
        sub = union_all(*selects).subquery()
        count = len(self.flat(per_branch[0]))
        columns: list[ColumnElement[Any]] = [sub.c[f"c{i}"] for i in range(count)]
        cols: dict[str, AnyVal] = {name: self.rebuild(v, columns, keep_const=False)
                                   for name, v in per_branch[0].items()}
        return Stage(sub, cols)

    def flat(self, values: dict[str, Val | PathsVal]) -> list[ColumnElement[Any]]:
        """Every SQL column of a set of prepared values."""
        return [part for v in values.values() for part in self.parts(v)]

    def unify_prepared(self, values: list[Val | PathsVal]) -> list[Val | PathsVal]:
        """Make one column's values of every branch alike (same parts, compatible SQL types)."""
        if all(isinstance(v, PathsVal) for v in values):
            paths_vals = [v for v in values if isinstance(v, PathsVal)]
            wholes: list[Val | None] = [p.whole for p in paths_vals]
            if all(w is not None for w in wholes):
                unified_whole: list[Val | None] = list(self.unify([w for w in wholes if w is not None]))
            else:
                unified_whole = [None] * len(values)
            keys = list(paths_vals[0].paths)
            per_path = {k: self.unify([p.paths[k] for p in paths_vals]) for k in keys}
            return [PathsVal(unified_whole[i], {k: per_path[k][i] for k in keys}) for i in range(len(values))]
        return list(self.unify([v for v in values if isinstance(v, Val)]))

    def unify(self, values: list[Val]) -> list[Val]:
        """Values of one column from several branches in one representation."""
        d = self.d

        def is_null(v: Val) -> bool:
            return v.is_const and v.const is None

        real = [v for v in values if not is_null(v)]
        if not real:
            return [Val(d.null(STRING), STRING) for _ in values]
        kinds = {(v.type, v.form) for v in real}
        if len(kinds) == 1:
            kind, form = kinds.pop()
            keep_dt = all(v.dt is not None for v in real)
            out = []
            for v in values:
                if is_null(v):
                    out.append(Val(d.null(form or kind), kind, form, dt=d.null(DATETIME) if keep_dt else None))
                else:
                    out.append(Val(v.sql, kind, form, dt=v.dt if keep_dt else None))
            return out
        if all(v.type in NUMERIC for v in real):
            from sqlalchemy import Float, cast

            return [Val(d.null(REAL), REAL) if is_null(v) else Val(cast(v.sql, Float), REAL) for v in values]
        scope = Scope(d, {}, self.now)
        return [Val(d.null(JSON_FORM), DYNAMIC, JSON_FORM) if is_null(v)
                else Val(scope.as_json(v), DYNAMIC, JSON_FORM) for v in values]

    # ------------------------------------------------------------ operators

    def row_wise(self, op: ast.Operator, stage: Stage, needs: Needs) -> Stage | None:
        """A row-wise operator on a stage (None: a where that no row of it passes)."""
        if isinstance(op, ast.Where):
            return self.where(op, stage, needs, drop_false=True)
        if isinstance(op, ast.Extend):
            return self.extend(op, stage, needs)
        if isinstance(op, ast.Project):
            return self.project(op, stage, needs)
        assert isinstance(op, ast.ProjectAway)
        return self.project_away(op, stage)

    def operator(self, op: ast.Operator, stage: Stage, before: Needs, after: Needs) -> Stage:
        """Apply one operator."""
        if isinstance(op, ast.Where):
            out = self.where(op, stage, before, drop_false=False)
            assert out is not None
            return out
        if isinstance(op, ast.Extend):
            return self.extend(op, stage, before)
        if isinstance(op, ast.Project):
            return self.project(op, stage, before)
        if isinstance(op, ast.ProjectAway):
            return self.project_away(op, stage)
        if isinstance(op, ast.Summarize):
            return self.summarize(op, stage, before)
        if isinstance(op, ast.Sort):
            return self.sort(op.keys, stage, before)
        if isinstance(op, ast.Top):
            sorted_stage = self.sort((op.key,), stage, before)
            return self.take(op.count, sorted_stage)
        if isinstance(op, ast.Take):
            return self.take(op.count, stage)
        if isinstance(op, ast.Count):
            return self.count(stage, before)
        if isinstance(op, ast.Distinct):
            return self.distinct(op, stage, before)
        if isinstance(op, ast.Join):
            return self.join(op, stage, before, after)
        if isinstance(op, ast.MvExpand):
            return self.mv_expand(op, stage, before)
        raise error("unsupported operator", op)

    def where(self, op: ast.Where, stage: Stage, needs: Needs, drop_false: bool) -> Stage | None:
        """``where``: a filter on the current SELECT (wrapped first after a limit, distinct or aggregation)."""
        if stage.limit is not None or stage.distinct or stage.aggregated:
            stage = self.wrap(stage, needs)
        scope = self.scope(stage)
        value = scope.compile(op.predicate)
        if isinstance(value, Val) and value.is_const:
            if value.const is True:
                return stage
            if value.const is False or value.const is None:
                return None if drop_false else replace(stage, where=[*stage.where, false()])
        condition = scope.as_bool(value, op.predicate)
        return replace(stage, where=[*stage.where, condition])

    def extend(self, op: ast.Extend, stage: Stage, needs: Needs) -> Stage:
        """``extend``: columns added (or replaced in place); each may use the ones before it."""
        if stage.distinct:
            stage = self.wrap(stage, needs)
        cols = dict(stage.cols)
        for name, item in zip(names_of(op.items), op.items, strict=True):
            cols[name] = Scope(self.d, cols, self.now).compile(item.expr)
        return replace(stage, cols=cols)

    def project(self, op: ast.Project, stage: Stage, needs: Needs) -> Stage:
        """``project``: exactly these columns."""
        if stage.distinct:
            stage = self.wrap(stage, needs)
        scope = self.scope(stage)
        cols: dict[str, AnyVal] = {}
        for name, item in zip(names_of(op.items), op.items, strict=True):
            if name in cols:
                raise error(f"column {name!r} is projected twice", item)
            cols[name] = scope.compile(item.expr)
        return replace(stage, cols=cols)

    def project_away(self, op: ast.ProjectAway, stage: Stage) -> Stage:
        """``project-away``: drop columns."""
        for name in op.names:
            if name not in stage.cols:
                raise error(f"unknown column {name!r} (columns: {', '.join(stage.cols)})", op)
        return replace(stage, cols={k: v for k, v in stage.cols.items() if k not in op.names})

    def summarize(self, op: ast.Summarize, stage: Stage, needs: Needs) -> Stage:
        """``summarize aggs by keys``: keys and aggregate arguments computed in a subquery, grouped outside."""
        if stage.aggregated or stage.distinct:
            stage = self.wrap(stage, needs)
        scope = self.scope(stage)
        key_names = names_of(op.by)
        keys = [scope.plain(scope.compile(item.expr)) for item in op.by]
        calls: list[tuple[str, ast.Call, list[Val]]] = []
        for item in op.aggregates:
            expr = item.expr
            if not isinstance(expr, ast.Call) or expr.name not in AGGREGATES:
                raise error("summarize takes aggregate calls: count(), dcount(x), min(x), max(x), sum(x), avg(x), "
                            "countif(p), make_list(x), make_set(x)", item)
            low, high = AGGREGATES[expr.name].arity
            if not low <= len(expr.args) <= high:
                raise error(f"{expr.name}() takes {low if low == high else f'{low} to {high}'} argument(s)", expr)
            args = [scope.plain(scope.compile(a)) for a in expr.args]
            calls.append((item.name or aggregate_name(expr), expr, args))
        names = [*key_names, *(name for name, _, _ in calls)]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise error(f"summarize makes two columns named {duplicate!r}: name one (x = ...)", op)
        inner_items = [part for v in keys for part in v.parts()] + [part for _, _, args in calls for a in args
                                                                    for part in a.parts()]
        sub = stage.select(self.d, inner_items).subquery()
        columns: list[ColumnElement[Any]] = [sub.c[f"c{i}"] for i in range(len(inner_items))]
        rebuilt_keys = [k.rebuild(self._take(columns, len(k.parts()))) for k in keys]
        cols: dict[str, AnyVal] = dict(zip(key_names, rebuilt_keys, strict=True))
        outer_scope = Scope(self.d, {}, self.now)
        for name, expr, args in calls:
            rebuilt_args = [a.rebuild(self._take(columns, len(a.parts()))) for a in args]
            cols[name] = AGGREGATES[expr.name].build(outer_scope, rebuilt_args, expr)
        group = [part for k in rebuilt_keys for part in k.parts()]
        return Stage(sub, cols, group_by=group or None, aggregated=True)

    @staticmethod
    def _take(columns: list[ColumnElement[Any]], count: int) -> list[ColumnElement[Any]]:
        taken, columns[:] = columns[:count], columns[count:]
        return taken

    def sort(self, keys: tuple[ast.SortKey, ...], stage: Stage, needs: Needs) -> Stage:
        """``order by`` (descending by default; nulls first when ascending, last when descending)."""
        if stage.limit is not None or stage.distinct:
            stage = self.wrap(stage, needs)
        scope = self.scope(stage)
        order: list[ColumnElement[Any]] = []
        for key in keys:
            value = scope.plain(scope.compile(key.expr))
            sql = self.d.sort_key(value.sql, value.scalar_type)
            clause = sql.desc() if key.descending else sql.asc()
            nulls_first = key.nulls_first if key.nulls_first is not None else not key.descending
            order.append(clause.nulls_first() if nulls_first else clause.nulls_last())
        return replace(stage, order=order)

    def take(self, count: int, stage: Stage) -> Stage:
        """``take N``."""
        limit = count if stage.limit is None else min(stage.limit, count)
        return replace(stage, limit=limit)

    def count(self, stage: Stage, needs: Needs) -> Stage:
        """``count``: one row with the number of rows."""
        sub = stage.select(self.d, []).subquery()
        return Stage(sub, {"Count": Val(func.count(), LONG)}, aggregated=True)

    def distinct(self, op: ast.Distinct, stage: Stage, needs: Needs) -> Stage:
        """``distinct a, b`` / ``distinct *``."""
        if stage.aggregated or stage.distinct or stage.limit is not None or stage.order:
            stage = self.wrap(stage, needs)
        names = list(op.names) or list(stage.cols)
        scope = self.scope(stage)
        cols: dict[str, AnyVal] = {}
        for i, name in enumerate(names):
            if name not in stage.cols:
                pos = op.name_pos[i] if i < len(op.name_pos) else op.pos
                raise error(f"unknown column {name!r} (columns: {', '.join(stage.cols)})", pos)
            cols[name] = scope.plain(stage.cols[name])
        return replace(stage, cols=cols, distinct=True)

    def join(self, op: ast.Join, stage: Stage, before: Needs, after: Needs) -> Stage:
        """``join kind=... (right) on keys``."""
        left = self.wrap(stage, before)
        right_needs = join_right_needs(op, after)
        right = self.wrap(self.pipeline(op.right, right_needs), right_needs)
        conditions = []
        for key in op.keys:
            if key.left not in left.cols:
                raise error(f"the left side of the join has no column {key.left!r}", key.pos)
            if key.right not in right.cols:
                raise error(f"the right side of the join has no column {key.right!r}", key.pos)
            conditions.append(self._key_equal(left.cols[key.left], right.cols[key.right]))
        on = and_(*conditions) if conditions else true()
        if op.kind in ("leftsemi", "leftanti"):
            match = exists(select(literal_column("1")).select_from(right.source).where(on))
            return replace(left, where=[*left.where, match if op.kind == "leftsemi" else ~match])
        if op.kind == "innerunique":
            left = self._first_per_key(left, [self._key_sql(left.cols[k.left]) for k in op.keys])
            on = and_(*(self._key_equal(left.cols[k.left], right.cols[k.right]) for k in op.keys)) \
                if op.keys else true()
        if op.kind == "rightouter":
            source = right.source.join(left.source, on, isouter=True)
        else:
            source = left.source.join(right.source, on, isouter=op.kind in ("leftouter", "fullouter"),
                                      full=op.kind == "fullouter")
        cols = dict(left.cols)
        for name, value in right.cols.items():
            target, n = name, 0
            while target in cols:
                n += 1
                target = f"{name}{n}"
            cols[target] = value
        return Stage(source, cols)

    def _key_sql(self, value: AnyVal) -> ColumnElement[Any]:
        plain = Scope(self.d, {}, self.now).plain(value)
        return plain.sql

    def _key_equal(self, left: AnyVal, right: AnyVal) -> ColumnElement[Any]:
        scope = Scope(self.d, {}, self.now)
        a, b = scope.plain(left), scope.plain(right)
        if a.scalar_type == b.scalar_type and a.scalar_type != JSON_FORM:
            return a.sql == b.sql
        if a.scalar_type in NUMERIC and b.scalar_type in NUMERIC:
            return a.sql == b.sql
        return scope.as_text(a) == scope.as_text(b)

    def _first_per_key(self, stage: Stage, keys: list[ColumnElement[Any]]) -> Stage:
        """Kusto's default join (innerunique) keeps one left row per key."""
        items = [part for v in stage.cols.values() for part in self.parts(self._as_prepared(v))]
        rank = func.row_number().over(partition_by=keys, order_by=keys)
        numbered = stage.select(self.d, [*items, rank]).subquery()
        columns: list[ColumnElement[Any]] = [numbered.c[f"c{i}"] for i in range(len(items))]
        cols: dict[str, AnyVal] = {name: self.rebuild(self._as_prepared(v), columns) for name, v in stage.cols.items()}
        return self.wrap(Stage(numbered, cols, where=[numbered.c[f"c{len(items)}"] == 1]), ALL)

    def _as_prepared(self, value: AnyVal) -> Val | PathsVal:
        if isinstance(value, Val | PathsVal):
            return value
        return self.prepare(value, WHOLE)

    def mv_expand(self, op: ast.MvExpand, stage: Stage, needs: Needs) -> Stage:
        """``mv-expand``: one row per element of an array (a property bag: per member; null: one row)."""
        stage = self.wrap(stage, needs)
        scope = self.scope(stage)
        name = op.item.name or derived_name(op.item.expr)
        if not name:
            raise error("mv-expand needs a name for an expression: mv-expand name = expression", op.item)
        array = scope.plain(scope.compile(op.item.expr))
        if array.type != DYNAMIC:
            raise error("mv-expand takes a dynamic array or property bag", op.item)
        table, element, index = self.d.expand(scope.as_json(array), "cg_expand")
        value = Val(element, DYNAMIC, JSON_FORM)
        if op.to_type and op.to_type != DYNAMIC:
            value = self._typed(scope, value, op.to_type, op.item.expr)
        cols = dict(stage.cols)
        cols[name] = value
        if op.index_name:
            cols[op.index_name] = Val(index, LONG)
        where = list(stage.where)
        if op.limit is not None:
            where.append(index < self.d.long(op.limit))
        return Stage(stage.source.join(table, true()), cols, where=where)

    def _typed(self, scope: Scope, value: Val, kind: str, at: ast.Expr) -> Val:
        if kind == STRING:
            return Val(scope.as_text(value), STRING)
        if kind in NUMERIC:
            return Val(scope.as_number(value, kind, at), kind)
        if kind == BOOL:
            return Val(scope.as_bool(value, at), BOOL)
        if kind == DATETIME:
            return Val(scope.as_datetime(value, at), DATETIME)
        return value

    # ------------------------------------------------------------ the result

    def finish(self, stage: Stage) -> tuple[Select[Any], list[OutputColumn]]:
        """The final SELECT: every column whole, JSON as text."""
        if not stage.cols:
            raise QueryError("the query selects no columns")
        scope = self.scope(stage)
        items: list[ColumnElement[Any]] = []
        out: list[OutputColumn] = []
        for name, value in stage.cols.items():
            plain = scope.plain(value)
            items.append(self.d.output(plain))
            out.append(OutputColumn(name, plain.type, plain.scalar_type))
        return stage.select(self.d, items), out
