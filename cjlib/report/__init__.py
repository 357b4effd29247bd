"""Presenting analyses: the helpers notebooks call (open a client in its colours, show a result in
words, chart and table) and the self-contained HTML pages a batch run writes."""

import sys

# jsonschema (imported by altair and nbformat) imports rfc3987_syntax when it is installed, and
# that package compiles a Lark grammar at import time: about 3 s per notebook kernel on our
# machines. cjkit never validates IRIs; without the package jsonschema simply skips that check.
sys.modules.setdefault("rfc3987_syntax", None)

from cjlib.report.notebook import open_client, show, show_nuggets, show_sql  # noqa: E402

__all__ = ["open_client", "show", "show_nuggets", "show_sql"]
