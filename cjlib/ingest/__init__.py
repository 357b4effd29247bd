"""Ingestion: raw exports -> validated, pseudonymised, stitched warehouse."""

from cjlib.ingest.build import build_warehouse, check_workspace
from cjlib.ingest.report import IngestReport

__all__ = ["IngestReport", "build_warehouse", "check_workspace"]
