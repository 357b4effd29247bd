"""Batch runs of the report notebooks per client (papermill in-process, worker processes per
client), into reports/<client>/<run-id>/ with self-contained HTML, an index and metrics.json.

    from cjlib.batch import run_client, run_all
    run_client("acme-motor")                       # -> ClientRun
    run_all(sample=True, jobs=2)                   # -> BatchRun (.ok, .summary())
"""

import sys

# Skip jsonschema's optional rfc3987_syntax (a ~3 s Lark grammar build at import, pulled in by
# nbformat and altair); see cjlib/report/__init__.py.
sys.modules.setdefault("rfc3987_syntax", None)

from cjlib.batch.engagement import ClientJob, load_engagement  # noqa: E402
from cjlib.batch.execute import NotebookRun  # noqa: E402
from cjlib.batch.notebooks import NotebookSpec, discover  # noqa: E402
from cjlib.batch.run import BatchRun, ClientRun, resolve_jobs, run_all, run_client  # noqa: E402

__all__ = [
    "BatchRun",
    "ClientJob",
    "ClientRun",
    "NotebookRun",
    "NotebookSpec",
    "discover",
    "load_engagement",
    "resolve_jobs",
    "run_all",
    "run_client",
]
