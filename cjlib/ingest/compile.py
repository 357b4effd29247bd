"""The mapping compiler: one source's mapping -> one SQL statement that parses its raw rows.

For a source it produces `CREATE TEMP TABLE parsed AS ...` over the deduplicated raw rows, giving
one typed column per mapped field (identifiers normalised; the build hashes each distinct value
once, not every occurrence) plus the first problem of each row (`_rej_column`, `_rej_value`,
`_rej_code`, `_rej_reason`; NULL when the row is usable). Names enter SQL only through
`quote_ident`, values only as bound parameters; the parsing itself lives in the macros of
sql/macros.sql.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cjlib.config.schema import (
    FIELD_TYPES,
    IDENTIFIERS,
    ClientConfig,
    EventSpec,
    FieldSpec,
    ReadOptions,
    SourceConfig,
)
from cjlib.db import quote_ident
from cjlib.ingest.phones import country_info

TRUE_DEFAULT = ["y", "yes", "j", "ja", "1", "true", "t", "oui", "si", "x"]
FALSE_DEFAULT = ["n", "no", "nee", "0", "false", "f", "non"]


@dataclass
class Item:
    """One value to parse: a canonical field, an attribute or a per-event override."""

    target: str  # output column name
    spec: FieldSpec
    type: str  # text, int, number, money, bool, timestamp, date, duration, or an identifier
    required: bool = False
    nonnegative: bool = False
    check_formula: bool = False


@dataclass
class Params:
    """Bound parameters collected while compiling (named $p0, $p1, ...)."""

    values: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def items_for(source: SourceConfig) -> list[Item]:
    """Everything a source's rows must yield, in the order problems are reported."""
    items: list[Item] = []
    fields = dict(source.fields)
    event_spec = source.event if isinstance(source.event, FieldSpec) else None
    if event_spec is not None:
        fields.setdefault("event", event_spec)
    for name, spec in fields.items():
        kind = FIELD_TYPES[name]
        value_type = spec.type or kind
        items.append(
            Item(
                target=name,
                spec=spec,
                type=name if kind == "identifier" else value_type,
                required=(name == "ts" and not source.events),
                nonnegative=name in ("value", "cost"),
                check_formula=value_type == "text",
            )
        )
    for name, spec in source.attrs.items():
        value_type = spec.type or "text"
        items.append(Item(f"attr__{name}", spec, value_type, check_formula=value_type == "text"))
    for index, ev in enumerate(source.events or []):
        items.extend(_event_items(index, ev))
    return items


def _event_items(index: int, ev: EventSpec) -> list[Item]:
    items = []
    if isinstance(ev.event, FieldSpec):
        items.append(Item(f"event__{index}", ev.event, "text", check_formula=True))
    if ev.ts is not None:
        optional = ev.optional or ev.ts.optional
        items.append(Item(f"ts__{index}", ev.ts, ev.ts.type or "timestamp", required=not optional))
    for name in ("value", "outcome", "channel"):
        spec = getattr(ev, name)
        if spec is not None:
            value_type = spec.type or FIELD_TYPES[name]
            items.append(Item(f"{name}__{index}", spec, value_type, nonnegative=name == "value"))
    return items


def mapped_columns(source: SourceConfig) -> list[str]:
    """The export columns the mapping reads (each must exist in every file)."""
    columns = [item.spec.column for item in items_for(source) if item.spec.column is not None]
    return list(dict.fromkeys(columns))


@dataclass
class Compiled:
    sql: str
    params: dict[str, Any]
    items: list[Item]


def compile_parse(
    config: ClientConfig,
    source: SourceConfig,
    raw_table: str,
    out_table: str,
    *,
    now_utc: str,
    file_columns: list[str],
) -> Compiled:
    """SQL that parses `raw_table` (text columns + _file, _row) into `out_table`."""
    params = Params()
    items = items_for(source)
    opts = source.read
    source_tz = params.bind(opts.tz or config.timezone)
    nulls = params.bind(list(config.null_values))
    country = country_info(config.country)
    ctx = _Context(
        params,
        opts,
        source_tz,
        opts.tz or config.timezone,
        country.calling_code,
        country.trunk_prefix,
    )

    # Each mapped column is trimmed once (t0, t1, ...), however many items read it.
    trimmed = {
        c: f"t{n}"
        for n, c in enumerate(dict.fromkeys(i.spec.column for i in items if i.spec.column))
    }
    cleaned, parsed, outputs, checks = [], [], [], []
    prepared: tuple[list[str], list[str]] = ([], [])  # intermediate values, in two steps
    for i, item in enumerate(items):
        raw = f"v{i}"
        if item.spec.column is not None:
            t = trimmed[item.spec.column]
            cleaned.append(f"CASE WHEN list_contains({nulls}, {t}) THEN NULL ELSE {t} END AS {raw}")
        else:
            cleaned.append(f"CAST({params.bind(str(item.spec.value))} AS VARCHAR) AS {raw}")
        value = _mapped(raw, item.spec, params)
        parsed.append(f"{_parse(value, item, ctx, i)} AS p{i}")
        for stage, aux in zip(prepared, _prepare(value, item, ctx, i), strict=True):
            stage.extend(aux)
        outputs.append(f"p{i} AS {quote_ident(item.target)}")
        checks.extend(_checks(i, item, ctx, now_utc))

    identifiers = [f"p{i}" for i, it in enumerate(items) if it.type in IDENTIFIERS]
    id_columns = [it.spec.column or it.target for it in items if it.type in IDENTIFIERS]
    if identifiers:
        checks.append(
            (
                f"coalesce({', '.join(identifiers)}) IS NULL",
                ",".join(id_columns),
                "NULL",
                "no_identifier",
                "no identifier: every identifier column is empty "
                f"(mapped: {', '.join(it.target for it in items if it.type in IDENTIFIERS)})",
            )
        )
    first_problem, problem = _first_problem(checks, params)
    keep = ", ".join(["_file", "_row", *[quote_ident(c) for c in file_columns]])
    trims = [f"cj_trim({quote_ident(c)}) AS {t}" for c, t in trimmed.items()]
    sql = f"""
        CREATE OR REPLACE TEMP TABLE {quote_ident(out_table)} AS
        WITH trimmed AS (
            SELECT _file, _row, {", ".join(trims) or "NULL AS t_none"}
            FROM (SELECT {keep} FROM {quote_ident(raw_table)})
        ), cleaned AS (
            SELECT _file, _row, {", ".join(cleaned) or "NULL AS v_none"} FROM trimmed
        ), prepared1 AS (
            SELECT *, {", ".join(prepared[0]) or "NULL AS a_none"} FROM cleaned
        ), prepared2 AS (
            SELECT *, {", ".join(prepared[1]) or "NULL AS b_none"} FROM prepared1
        ), parsed AS (
            SELECT *, {", ".join(parsed) or "NULL AS p_none"} FROM prepared2
        ), checked AS (
            SELECT *, {first_problem} FROM parsed
        )
        SELECT _file, _row, {", ".join([*outputs, *problem])}
        FROM checked
    """
    return Compiled(sql, params.values, items)


@dataclass
class _Context:
    params: Params
    opts: ReadOptions
    tz: str  # the bound parameter
    tz_name: str
    calling_code: str
    trunk_prefix: str


def _mapped(raw: str, spec: FieldSpec, params: Params) -> str:
    """Apply a value map (after trimming); unmapped values pass through unless strict."""
    if not spec.map:
        return raw
    keys = params.bind(list(spec.map.keys()))
    values = params.bind([None if v is None else str(v) for v in spec.map.values()])
    fallback = "NULL" if spec.strict_map else raw
    return (
        f"CASE WHEN list_position({keys}, {raw}) IS NOT NULL "
        f"THEN {values}[list_position({keys}, {raw})] ELSE {fallback} END"
    )


def _trim(value: str, item: Item) -> str:
    """trim(value), or the value itself when it is a column value (trimmed when cleaned)."""
    return value if item.spec.column is not None and not item.spec.map else f"trim({value})"


def _prepare(value: str, item: Item, ctx: _Context, i: int) -> tuple[list[str], list[str]]:
    """Intermediate values the parse of item i reads more than once (as a{i}, then b{i}), so
    they are computed once per row rather than wherever a macro names them."""
    p = ctx.params
    if item.type == "email":
        return [f"lower({_trim(value, item)}) AS a{i}"], []
    if item.type == "phone":
        cc, trunk = p.bind(ctx.calling_code), p.bind(ctx.trunk_prefix)
        digits = f"cj_phone_digits({value}) AS a{i}"
        return [digits], [f"cj_phone_e164(a{i}, {cc}, {trunk}) AS b{i}"]
    if item.type == "money":
        return [f"cj_money_core({value}) AS a{i}"], []
    return [], []


def _parse(value: str, item: Item, ctx: _Context, i: int) -> str:
    """The typed value of `value` (text) according to the item's type (a{i} and b{i} are the
    item's intermediate values from `_prepare`)."""
    p, opts = ctx.params, ctx.opts
    kind = item.type
    if kind == "text":
        return value
    # Identifiers come out normalised, not yet hashed: NULL exactly when the hash would be.
    if kind == "email":
        return f"cj_email_of(a{i})"
    if kind == "phone":
        return f"cj_phone_of({value}, b{i})"
    if kind in ("crm_id", "cookie_id", "account_no"):
        return f"nullif({_trim(value, item)}, '')"
    if kind in ("timestamp", "date"):
        return _timestamp(value, item, ctx)
    if kind == "money":
        return f"cj_money_of_core(a{i}, {p.bind(opts.decimal)}, {p.bind(opts.thousands)})"
    if kind == "number":
        return f"cj_number({value}, {p.bind(opts.decimal)}, {p.bind(opts.thousands)})"
    if kind == "int":
        return f"try_cast(replace({value}, {p.bind(opts.thousands)}, '') AS BIGINT)"
    if kind == "bool":
        trues = [t.lower() for t in (item.spec.true or TRUE_DEFAULT)]
        falses = [f.lower() for f in (item.spec.false or FALSE_DEFAULT)]
        return f"cj_bool({value}, {p.bind(trues)}, {p.bind(falses)})"
    if kind == "duration":
        return f"cj_duration({value})"
    raise ValueError(f"unknown type {kind!r}")


def _timestamp(value: str, item: Item, ctx: _Context) -> str:
    """The UTC timestamp of `value`: the mapping's strptime format, else ISO 8601 (cj_timestamp).

    Two shortcuts that give the same values: a format without any `%` directive (such as 'auto')
    can only match text containing its longest literal run, so strptime, slow when it fails, runs
    only on such text; and local time in 'UTC' needs no conversion.
    """
    p, kind = ctx.params, item.type
    fmt = item.spec.format or ("%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S")
    tz_name = item.spec.tz or ctx.tz_name
    tz = p.bind(item.spec.tz) if item.spec.tz else ctx.tz
    offset = "%z" in fmt or "%Z" in fmt
    strptime = f"try_strptime({value}, {p.bind(fmt)})"
    token = max(fmt.split(), key=len, default="")
    if "%" not in fmt and token:
        strptime = f"CASE WHEN contains({value}, {p.bind(token)}) THEN {strptime} END"
    if offset:
        local = f"timezone('UTC', {strptime})"
    elif tz_name == "UTC":
        local = strptime
    else:
        local = f"cj_local_to_utc({strptime}, {tz})"
    return f"coalesce({local}, cj_iso_utc({value}, {tz}))"


def _expected(item: Item, ctx: _Context) -> tuple[str, str]:
    """(reason code, what was expected) for a value that did not parse."""
    kind, spec, opts = item.type, item.spec, ctx.opts
    if kind in ("timestamp", "date"):
        fmt = spec.format or "ISO 8601"
        return "bad_timestamp", f"a {kind} in format {fmt!r} (or ISO 8601)"
    return {
        "email": ("bad_email", "an email address"),
        "phone": ("bad_phone", "a phone number (national or international)"),
        "money": (
            "bad_money",
            f"an amount like 1{opts.thousands}234{opts.decimal}50 (currency signs allowed)",
        ),
        "number": ("bad_number", f"a number (decimal separator {opts.decimal!r})"),
        "int": ("bad_number", "a whole number"),
        "bool": (
            "bad_bool",
            "one of "
            + "/".join((spec.true or ["Y", "Yes", "1"]) + (spec.false or ["N", "No", "0"])),
        ),
        "duration": ("bad_duration", "a duration like 00:03:12, 03:12, 192 or 3m12s"),
        "text": ("unmapped_value", f"one of {sorted(spec.map or {})}"),
    }.get(kind, ("bad_value", kind))


def _checks(
    i: int, item: Item, ctx: _Context, now_utc: str
) -> list[tuple[str, str | None, str, str, str]]:
    """(condition, column, value, code, reason) for each way this item can make a row unusable."""
    column = item.spec.column or item.target
    masked = item.type in ("email", "phone")
    shown = f"'<{item.type}>'" if masked else f"v{i}"
    out = []
    if item.required:
        missing_code = (
            "missing_timestamp" if item.type in ("timestamp", "date") else "missing_value"
        )
        out.append((f"v{i} IS NULL", column, "NULL", missing_code, f"no value for {item.target}"))
    code, expected = _expected(item, ctx)
    if item.type != "text" or (item.spec.map and item.spec.strict_map):
        out.append(
            (f"v{i} IS NOT NULL AND p{i} IS NULL", column, shown, code, f"expected {expected}")
        )
    if item.check_formula:
        out.append(
            (
                f"cj_is_formula(v{i})",
                column,
                f"v{i}",
                "formula",
                "looks like a spreadsheet formula (possible CSV injection)",
            )
        )
    if item.nonnegative:
        out.append((f"p{i} < 0", column, f"v{i}", "negative_money", "expected an amount >= 0"))
    if item.type in ("timestamp", "date"):
        limit = ctx.params.bind(now_utc)
        out.append(
            (
                f"p{i} > CAST({limit} AS TIMESTAMP)",
                column,
                f"v{i}",
                "future_timestamp",
                "lies in the future (after the build time plus max_future)",
            )
        )
        out.append(
            (
                f"p{i} < TIMESTAMP '1970-01-01'",
                column,
                f"v{i}",
                "ancient_timestamp",
                "lies before 1970 (a placeholder date?)",
            )
        )
    return out


def _first_problem(
    checks: list[tuple[str, str | None, str, str, str]], params: Params
) -> tuple[str, list[str]]:
    """The index of each row's first failing check (`_rej`, NULL when usable), and the columns
    derived from it by list lookups, so every condition is evaluated once."""
    if not checks:
        return "NULL::INTEGER AS _rej", [
            "NULL::VARCHAR AS _rej_column",
            "NULL::VARCHAR AS _rej_value",
            "NULL::VARCHAR AS _rej_code",
            "NULL::VARCHAR AS _rej_reason",
        ]
    index = " ".join(f"WHEN {cond} THEN {n}" for n, (cond, *_) in enumerate(checks, start=1))
    values = " ".join(
        f"WHEN {n} THEN CAST({value} AS VARCHAR)"
        for n, (_, _, value, _, _) in enumerate(checks, start=1)
        if value != "NULL"
    )
    columns = params.bind([column for _, column, _, _, _ in checks])
    codes = params.bind([code for *_, code, _ in checks])
    reasons = params.bind([reason for *_, reason in checks])
    return f"CASE {index} END AS _rej", [
        f"{columns}[_rej] AS _rej_column",
        f"CASE _rej {values} END AS _rej_value" if values else "NULL::VARCHAR AS _rej_value",
        f"{codes}[_rej] AS _rej_code",
        f"{reasons}[_rej] AS _rej_reason",
    ]
