"""House-style renderers: one module per sample client, each a list of FileStyle."""

from __future__ import annotations

from ..render import FileStyle
from ..spec import SampleSpec
from . import acme, brightside


def file_styles(spec: SampleSpec, xlsx: bool) -> list[FileStyle]:
    """The export files of ``spec`` (XLSX sources fall back to CSV when ``xlsx`` is false)."""
    mod = {"acme": acme, "brightside": brightside}[spec.style]
    return mod.styles(spec, xlsx)
