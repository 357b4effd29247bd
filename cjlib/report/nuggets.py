"""Reading whatever `Journey.nuggets()` returns as plain rows (headline, money at stake, ...),
so notebooks, indexes and run-to-run diffs can list findings without depending on its class."""

from __future__ import annotations

from typing import Any

import pandas as pd

#: The mime type under which report.show_nuggets attaches its rows to the output, so a batch run
#: can read the findings back from the executed notebook.
NUGGETS_MIME = "application/vnd.cjkit.nuggets+json"
HEADLINE_KEYS = ("headline", "title", "finding", "text")
KEY_KEYS = ("key", "id", "name", "kind", "analysis")
MONEY_KEYS = ("money", "money_at_stake", "value_at_stake", "at_stake", "impact", "amount")


CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "CHF": "CHF "}


def money_text(amount: float, currency: str) -> str:
    """An amount with its currency symbol where there is a common one: £73,927, € 1,200."""
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount:,.0f}" if symbol else f"{currency} {amount:,.0f}"


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in record and record[key] is not None and not _isna(record[key]):
            return record[key]
    return None


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _as_record(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    if hasattr(item, "_asdict"):
        return item._asdict()
    if hasattr(item, "__dict__"):
        record = {k: v for k, v in vars(item).items() if not k.startswith("_")}
        for key in HEADLINE_KEYS + KEY_KEYS + MONEY_KEYS:
            if key not in record and isinstance(getattr(type(item), key, None), property):
                record[key] = getattr(item, key)
        return record
    return {"headline": str(item)}


def nugget_rows(found: Any, top: int | None = None) -> list[dict[str, Any]]:
    """[{rank, key, headline, money}] from a Result, a DataFrame, or an iterable of nugget
    objects / dicts; money is a float or None."""
    if found is None:
        return []
    frame = getattr(found, "df", None) if not isinstance(found, pd.DataFrame) else found
    if isinstance(frame, pd.DataFrame):
        records = frame.to_dict("records")
    elif isinstance(found, dict):
        records = [found]
    else:
        try:
            records = [_as_record(item) for item in found]
        except TypeError:
            records = [_as_record(found)]
    rows = []
    for rank, record in enumerate(records, start=1):
        headline = _first(record, HEADLINE_KEYS)
        if headline is None:
            continue
        money = _first(record, MONEY_KEYS)
        if isinstance(money, tuple | list):
            money = money[0] if money else None
        try:
            money = None if money is None else float(money)
        except (TypeError, ValueError):
            money = None
        key = _first(record, KEY_KEYS)
        rows.append({
            "rank": rank,
            "key": str(key) if key is not None else str(headline),
            "headline": str(headline),
            "money": money,
        })
    return rows[:top] if top else rows
