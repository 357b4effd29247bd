"""`cj serve`: a client's dashboard in the browser (Voila, hardened; see cjlib.serve)."""

from __future__ import annotations

import signal
import sys
import webbrowser

import click

from cjlib.errors import CjError


def register(cli: click.Group) -> None:
    cli.add_command(serve)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@click.command()
@click.argument("client")
@click.option("--port", type=int, default=None,
              help="Port to listen on (default: 8866, or a free one if that is taken).")
@click.option("--host", default=None,
              help="Address to listen on, e.g. 0.0.0.0 to show the dashboard on another "
                   "device. Default 127.0.0.1 (this computer only). With --host a token is "
                   "required and printed once.")
@click.option("--open/--no-open", "open_browser", default=True,
              help="Open the dashboard in the default browser (default: open).")
@click.option("--rebake", is_flag=True,
              help="Ignore the latest batch run and execute the dashboard afresh.")
def serve(client: str, port: int | None, host: str | None, open_browser: bool,
          rebake: bool) -> None:
    """Serve CLIENT's dashboard from its latest run (reports/CLIENT/latest/dashboard.ipynb).

    When that run has no dashboard, the dashboard notebook is run once (papermill) into
    reports/CLIENT/serve-<run-id>/ and reused until the data or the notebook change. One Voila
    process serves that one notebook: no code, no tracebacks, every script and style served
    locally (works offline), the warehouse read-only. Stop with Ctrl-C."""
    from cjlib.serve import start
    from cjlib.serve.voila import LOCALHOST

    try:
        server, served = start(client, host=host or LOCALHOST, port=port, rebake=rebake,
                               echo=lambda m: click.echo(m, err=True))
    except CjError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
    click.echo(f"{served.client} dashboard: {server.url}")
    if server.options.token:
        click.echo("anyone with this address (it holds the access token) can see the dashboard")
    click.echo(f"serving {served.notebook}; logs: {server.options.log_file} (dashboard), "
               f"{server.server_log} (server)", err=True)
    if open_browser:
        webbrowser.open(server.options.local_url)
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):  # stop Voila with us, never orphan it
        signal.signal(stop_signal, _interrupt)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        click.echo("stopping", err=True)
    finally:
        server.stop()
    if server.process.returncode not in (0, -15, None):
        sys.exit(1)
