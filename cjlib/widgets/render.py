"""SectionView -> HTML: the words and numbers of a section (charts are rendered separately).

Pure string functions, shared by the live dashboard (ipywidgets.HTML values) and the static
batch report. Every value is escaped; numbers carry `data-` attributes with the raw value so
tests (and screen readers) read exactly what is shown.
"""

from __future__ import annotations

import base64
import html
import mimetypes
from importlib import resources
from pathlib import Path

from cjlib.widgets.views import SectionView

SPINNER = "<span class='cj-spinner' aria-hidden='true'></span>"


def css(primary: str, accent: str) -> str:
    """The dashboard's style sheet in the client's colours."""
    text = resources.files("cjlib.widgets").joinpath("dashboard.css").read_text(encoding="utf-8")
    return text.replace("var(--cj-primary-default)", primary).replace(
        "var(--cj-accent-default)", accent
    )


def style_tag(primary: str, accent: str) -> str:
    return f"<style>{css(primary, accent)}</style>"


def logo_data_uri(path: Path | None) -> str | None:
    """The logo file as a data: URI (served inside the page, never fetched), or None."""
    if path is None or not path.is_file():
        return None
    kind = mimetypes.guess_type(path.name)[0]
    if kind not in {"image/png", "image/svg+xml", "image/jpeg", "image/gif", "image/webp"}:
        return None
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"data:{kind};base64,{data}"


def brand_html(name: str, subtitle: str, logo: str | None) -> str:
    """The title bar: logo (or the client's initials in its colour), name, subtitle."""
    if logo:
        mark = f"<img class='cj-logo' src='{html.escape(logo)}' alt=''>"
    else:
        initials = "".join(w[0] for w in name.split()[:2]).upper() or "?"
        mark = (f"<span class='cj-logo cj-initials' aria-hidden='true'>"
                f"{html.escape(initials)}</span>")
    return (
        f"<div class='cj-brand'>{mark}<div><div class='cj-client'>{html.escape(name)}</div>"
        f"<div class='cj-subtitle'>{html.escape(subtitle)}</div></div></div>"
    )


def status_html(state: str, generation: int, text: str, pending: tuple[str, ...] = (),
                requests: int = 0) -> str:
    """The page status ('busy' with a spinner, 'ready', or 'error'). Data attributes for
    tests and measurements: `generation` counts completed updates, `requests` started ones,
    `pending` names the sections still being computed."""
    spinner = SPINNER if state == "busy" else ""
    return (
        f"<div class='cj-status cj-status-{state}' data-state='{state}' "
        f"data-generation='{generation}' data-requests='{requests}' "
        f"data-pending='{html.escape(' '.join(pending))}' role='status' aria-live='polite'>"
        f"{spinner}{html.escape(text)}</div>"
    )


def view_html(view: SectionView) -> str:
    """The words and numbers of one section view."""
    if view.empty is not None:
        return (f"<div class='cj-empty' data-section='{view.key}' data-empty='1'>"
                f"{html.escape(view.empty)}</div>")
    parts = [f"<div class='cj-view' data-section='{view.key}'>"]
    if view.kpis:
        cards = []
        for kpi in view.kpis:
            raw = "" if kpi.value is None else repr(float(kpi.value))
            note = f"<div class='cj-kpi-note'>{html.escape(kpi.note)}</div>" if kpi.note else ""
            cards.append(
                f"<div class='cj-kpi' data-kpi='{html.escape(kpi.key)}' data-value='{raw}'>"
                f"<div class='cj-kpi-value'>{html.escape(kpi.text)}</div>"
                f"<div class='cj-kpi-label'>{html.escape(kpi.label)}</div>{note}</div>"
            )
        parts.append(f"<div class='cj-kpis'>{''.join(cards)}</div>")
    if view.findings:
        items = []
        for f in view.findings:
            raw = "" if f.money is None else repr(float(f.money))
            money = (f"<span class='cj-money' data-value='{raw}'>{html.escape(f.money_text)}"
                     "</span>" if f.money_text else "")
            items.append(f"<li class='cj-finding' data-rank='{f.rank}'>"
                         f"<span class='cj-finding-text'>{html.escape(f.headline)}</span>"
                         f"{money}</li>")
        parts.append(f"<ol class='cj-findings'>{''.join(items)}</ol>")
    for headline in view.headlines:
        parts.append(f"<p class='cj-headline'>{html.escape(headline)}</p>")
    for note in view.notes:
        parts.append(f"<p class='cj-note'>{html.escape(note)}</p>")
    parts.append("</div>")
    return "".join(parts)


def loading_html(key: str) -> str:
    """A section whose figures are being computed."""
    return (f"<div class='cj-loading' data-section-loading='{key}'>{SPINNER}"
            "Working out the figures…</div>")


def error_html(key: str, message: str) -> str:
    """A section that failed: the friendly message only (already escaped by safe.report)."""
    return f"<div class='cj-error' data-section='{key}' data-error='1'>{message}</div>"
