"""`cj serve CLIENT`: the client's dashboard over Voila, hardened (DESIGN section 7).

    from cjlib.serve import serve
    serve("acme-motor", port=8866)          # blocks until Ctrl-C

`runs` finds the notebook to serve (the latest batch run's, or a fresh bake); `voila` builds the
hardened command line and runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cjlib.serve.runs import Served, ServeError, find_or_bake
from cjlib.serve.voila import LOCALHOST, ServeOptions, Server, free_port


def start(
    client: str,
    *,
    host: str = LOCALHOST,
    port: int | None = None,
    rebake: bool = False,
    reports: Path | None = None,
    echo: Callable[[str], None] = print,
) -> tuple[Server, Served]:
    """Find (or bake) the client's dashboard and start Voila on it; returns once it listens."""
    served = find_or_bake(client, reports=reports, rebake=rebake, on_bake=echo)
    if served.baked:
        echo(f"baked {served.notebook}")
    served.log_dir.mkdir(parents=True, exist_ok=True)
    options = ServeOptions(
        notebook=served.notebook,
        port=port if port is not None else free_port(host),
        host=host,
        log_file=served.log_dir / "dashboard.log",
    )
    server = Server(options, server_log=served.log_dir / "voila.log")
    server.wait_ready()
    return server, served


__all__ = ["ServeError", "ServeOptions", "Served", "Server", "find_or_bake", "start"]
