"""Numbers as a client reads them: money in the client's currency, counts, shares."""

from __future__ import annotations

import math

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "INR": "₹", "CHF": "CHF "}


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(amount: float | None, currency: str) -> str:
    """'£12,345', '-€1,200', 'SEK 3,400'; '£1.2m' from a million up; '–' when unknown."""
    if _missing(amount):
        return "–"
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), f"{currency.upper()} ")
    sign = "-" if amount < 0 else ""
    value = abs(float(amount))
    if value >= 1_000_000:
        return f"{sign}{symbol}{value / 1_000_000:,.1f}m"
    return f"{sign}{symbol}{value:,.0f}"


def money_short(amount: float | None, currency: str) -> str:
    """'£74k', '£1.3m', '£950' (for badges; the exact figure is in the sentence beside it)."""
    if _missing(amount):
        return "–"
    value = abs(float(amount))
    if value < 1_000 or value >= 1_000_000:
        return money(amount, currency)
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), f"{currency.upper()} ")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{value / 1_000:,.0f}k"


def count(value: float | None) -> str:
    """'12,345'."""
    return "–" if _missing(value) else f"{round(float(value)):,}"


def share(value: float | None, digits: int = 1) -> str:
    """0.1234 -> '12.3%'."""
    return "–" if _missing(value) else f"{float(value) * 100:.{digits}f}%"
