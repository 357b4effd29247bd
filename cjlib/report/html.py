"""Self-contained HTML pages for a client: an executed notebook without its code, and the run's
index, in the client's colours and logo. Nothing on a page is fetched from the network: charts are
inline SVG images, the stylesheet and the logo are embedded."""

from __future__ import annotations

import base64
import copy
import mimetypes
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import nbformat

HIDDEN_TAGS = {"parameters", "injected-parameters", "remove-output", "hide-output"}

# Anything that would make a browser fetch from elsewhere: a remote src/href/data/poster on any
# tag except a plain link (<a href> is navigation, not a fetch), and remote CSS url()/@import.
_TAG = re.compile(r"<([A-Za-z][\w:-]*)\b([^>]*)>")
_REMOTE_ATTR = re.compile(
    r"""\b(?:src|href|xlink:href|data|poster|srcset|action)\s*=\s*["']?\s*(?:https?:)?//""",
    re.IGNORECASE,
)
_REMOTE_SCRIPT = re.compile(
    r"""<script\b[^>]*\bsrc\s*=\s*["']?\s*(?:https?:)?//[^>]*>\s*</script\s*>""", re.IGNORECASE
)
_REMOTE_CSS = re.compile(r"""(?:url\(|@import)\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@dataclass
class Page:
    """What every page of a client's report shares: who it is for and how it looks."""

    client_name: str
    subtitle: str = ""
    footer: str = ""
    primary: str = "#1f3a5f"
    accent: str = "#e07a1f"
    logo: str | None = None  # a data: URI
    nav: list[dict[str, Any]] = field(default_factory=list)


def logo_data_uri(path: Path | None) -> str | None:
    """The logo file embedded as a data: URI (None when there is no readable logo)."""
    if path is None or not path.is_file():
        return None
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@cache
def _css() -> str:
    return resources.files("cjlib.report").joinpath("templates/report.css").read_text("utf-8")


@cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("cjlib.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        keep_trailing_newline=True,
    )


def render_page(page: Page, title: str, body: str) -> str:
    """A complete HTML document around `body` (already HTML)."""
    template = _environment().get_template("page.html.j2")
    text = template.render(
        title=title, body=body, css=_css(), client_name=page.client_name,
        subtitle=page.subtitle, footer=page.footer, primary=page.primary, accent=page.accent,
        logo=page.logo, nav=page.nav,
    )
    return strip_remote(text)


def render_fragment(name: str, **context: Any) -> str:
    """A body fragment from one of the report templates (e.g. index.html.j2)."""
    return _environment().get_template(name).render(**context)


def client_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of an executed notebook fit for a client: no warnings (stderr), no tracebacks,
    no bare text reprs, nothing from the parameter cells, and no widget-only outputs."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            cell.outputs = []
            continue
        kept = []
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error" or (kind == "stream" and out.get("name") == "stderr"):
                continue
            if kind in ("display_data", "execute_result"):
                data = {k: v for k, v in out.get("data", {}).items()
                        if not k.startswith("application/vnd.jupyter.widget")
                        and not k.startswith("application/vnd.vega")
                        and not k.startswith("application/javascript")}
                if not data or set(data) == {"text/plain"}:
                    continue
                out["data"] = data
            kept.append(out)
        cell.outputs = kept
    return nb


def notebook_body(nb: nbformat.NotebookNode) -> str:
    """The notebook's markdown and outputs as HTML, without any code (nbconvert, basic template)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(client_outputs(nb))
    return body


def notebook_title(nb: nbformat.NotebookNode, default: str) -> str:
    """The first markdown heading of the notebook, else `default`."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return default


def notebook_page(nb: nbformat.NotebookNode, page: Page, title: str) -> str:
    """The complete, self-contained client page for an executed notebook."""
    return render_page(page, title, notebook_body(nb))


def remote_references(text: str) -> list[str]:
    """Every place in an HTML text that would fetch something from the network."""
    found = [m.group(0)[:160] for m in _TAG.finditer(text)
             if m.group(1).lower() != "a" and _REMOTE_ATTR.search(m.group(2))]
    found += [text[max(0, m.start() - 40): m.end() + 60] for m in _REMOTE_CSS.finditer(text)]
    return found


def strip_remote(text: str) -> str:
    """Remove every tag that would load a remote script, stylesheet, frame or image."""

    def drop(match: re.Match[str]) -> str:
        if match.group(1).lower() != "a" and _REMOTE_ATTR.search(match.group(2)):
            return ""
        return match.group(0)

    text = _REMOTE_SCRIPT.sub("", text)
    return _REMOTE_CSS.sub("url(about:blank#", _TAG.sub(drop, text))
