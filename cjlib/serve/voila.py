"""Launching Voila for one client's dashboard, hardened (DESIGN section 7).

As shipped, Voila has no token, shows tracebacks, keeps a kernel per visit and passes the URL's
query string to the kernel. So each `cj serve` runs one Voila serving ONE notebook file (never a
folder):
- bound to 127.0.0.1 unless a host is given, and then a token is required;
- `--show_tracebacks=False`, sources stripped, a light theme;
- idle kernels culled (`MappingKernelManager.cull_idle_timeout` / `cull_interval`);
- no file of the run folder served (`file_allowlist` empty, `file_denylist` everything);
- a Content-Security-Policy that lets the page talk to this server only, so nothing is ever
  fetched from the network (all JavaScript and CSS are Voila's and anywidget's local files);
- the kernel environment says it is served (`CJ_SERVE=1`: live widgets) and where errors are
  logged (`CJ_DASHBOARD_LOG`); the client is the one papermill baked into the notebook.
The token and the other list/dict settings go in a private `voila.json`, not on the command line
(where `ps` would show the token).
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cjlib import paths
from cjlib.errors import CjError

LOCALHOST = "127.0.0.1"
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
DEFAULT_PORT = 8866
CULL_IDLE_TIMEOUT_S = 900
CULL_INTERVAL_S = 60
START_TIMEOUT_S = 60
TEMPLATE = "cjkit"
# The only front-end extensions the page loads: the widget managers and anywidget (charts).
LAB_EXTENSIONS = ("@jupyter-widgets/jupyterlab-manager", "@voila-dashboards/widgets-manager8",
                  "anywidget")
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
])


@dataclass
class ServeOptions:
    """How to serve one dashboard notebook."""

    notebook: Path
    port: int = DEFAULT_PORT
    host: str = LOCALHOST
    token: str | None = None
    log_file: Path | None = None
    cull_idle_timeout: int = CULL_IDLE_TIMEOUT_S
    cull_interval: int = CULL_INTERVAL_S
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.notebook = Path(self.notebook).resolve()
        if not self.notebook.is_file() or self.notebook.suffix != ".ipynb":
            raise CjError(f"cj serve serves one notebook file; {self.notebook} is not one")
        if self.host != LOCALHOST and not self.token:
            self.token = new_token()

    @property
    def url(self) -> str:
        """The address to open (with the token when there is one); for a wildcard host
        (0.0.0.0, ::) this computer's name, which other devices on the network can reach."""
        host = socket.gethostname() if self.host in WILDCARD_HOSTS else self.host
        host = f"[{host}]" if ":" in host else host
        query = f"?token={self.token}" if self.token else ""
        return f"http://{host}:{self.port}/{query}"

    @property
    def local_url(self) -> str:
        """The address on this computer (what `wait_ready` and tests connect to)."""
        host = LOCALHOST if self.host in WILDCARD_HOSTS else self.host
        host = f"[{host}]" if ":" in host else host
        query = f"?token={self.token}" if self.token else ""
        return f"http://{host}:{self.port}/{query}"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def voila_config(options: ServeOptions) -> dict[str, Any]:
    """The settings written to the private voila.json."""
    config: dict[str, Any] = {
        "VoilaConfiguration": {
            "file_allowlist": [],
            "file_denylist": [".*"],
            "show_tracebacks": False,
            "strip_sources": True,
            "http_header_envs": [],
            "extension_allowlist": list(LAB_EXTENSIONS),
        },
        "Voila": {
            "tornado_settings": {"headers": {
                "Content-Security-Policy": CSP,
                "X-Frame-Options": "DENY",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store",
            }},
        },
    }
    if options.token:
        config["Voila"]["token"] = options.token
    return config


def voila_command(options: ServeOptions, config_dir: Path) -> list[str]:
    """The command line: one notebook file, localhost by default, no tracebacks, culling."""
    return [
        sys.executable, "-m", "voila", str(options.notebook),
        "--no-browser",
        f"--port={options.port}",
        "--Voila.port_retries=0",
        f"--Voila.ip={options.host}",
        f"--Voila.root_dir={options.notebook.parent}",
        f"--Voila.config_file_paths={config_dir}",
        "--show_tracebacks=False",
        "--strip_sources=True",
        "--theme=light",
        f"--template={TEMPLATE}",
        f"--MappingKernelManager.cull_idle_timeout={options.cull_idle_timeout}",
        f"--MappingKernelManager.cull_interval={options.cull_interval}",
        "--MappingKernelManager.cull_connected=False",
    ]


def install_template(data_dir: Path) -> str:
    """Write the "cjkit" Voila template (see templates/index.html.j2) under `data_dir`, a
    Jupyter data folder put first on JUPYTER_PATH, with the offline chart bundle as one of its
    static files; return the bundle's URL path (for $CJ_CHART_ESM)."""
    from cjlib.widgets.lean import bundle_name, chart_bundle

    folder = data_dir / "voila" / "templates" / TEMPLATE
    (folder / "static").mkdir(parents=True, exist_ok=True)
    name = bundle_name()
    url_path = f"/voila/templates/{TEMPLATE}/static/{name}"
    (folder / "static" / name).write_text(chart_bundle(), encoding="utf-8")
    source = resources.files("cjlib.serve").joinpath("templates/index.html.j2")
    template = source.read_text(encoding="utf-8").replace("__CJ_CHART_ESM__", url_path)
    (folder / "index.html.j2").write_text(template, encoding="utf-8")
    (folder / "conf.json").write_text(json.dumps({"base_template": "lab"}), encoding="utf-8")
    return url_path


def kernel_environment(options: ServeOptions, data_dir: Path | None = None,
                       chart_esm: str | None = None) -> dict[str, str]:
    """The Voila process's environment (its kernels inherit it)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VOILA_", "JPY_")) and k not in ("QUERY_STRING", "JUPYTER_TOKEN")}
    env["CJ_SERVE"] = "1"
    env["CJKIT_HOME"] = str(paths.project_root())
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    if options.log_file is not None:
        env["CJ_DASHBOARD_LOG"] = str(options.log_file)
    if chart_esm:
        env["CJ_CHART_ESM"] = chart_esm
    if data_dir is not None:
        env["JUPYTER_PATH"] = os.pathsep.join(
            p for p in (str(data_dir), os.environ.get("JUPYTER_PATH", "")) if p)
    env.update(options.env)
    return env


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on (host, port) yet."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = LOCALHOST, preferred: int = DEFAULT_PORT) -> int:
    """`preferred` when it is free, else any free port."""
    if port_is_free(host, preferred):
        return preferred
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Server:
    """A running Voila process for one dashboard."""

    def __init__(self, options: ServeOptions, *, server_log: Path | None = None) -> None:
        if not port_is_free(options.host, options.port):
            # never mistake another server on this port for ours
            raise CjError(f"port {options.port} is already in use; choose another with --port")
        self.options = options
        self.server_log = server_log
        self._config_dir = Path(tempfile.mkdtemp(prefix="cj-serve-"))
        os.chmod(self._config_dir, 0o700)
        config_file = self._config_dir / "voila.json"
        config_file.write_text(json.dumps(voila_config(options)), encoding="utf-8")
        os.chmod(config_file, 0o600)
        data_dir = self._config_dir / "share" / "jupyter"
        chart_esm = install_template(data_dir)
        self.command = voila_command(options, self._config_dir)
        output = open(server_log, "ab") if server_log else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                self.command, cwd=str(options.notebook.parent),
                env=kernel_environment(options, data_dir, chart_esm), stdin=subprocess.DEVNULL,
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )
        finally:
            if server_log:
                output.close()
        atexit.register(self.stop)  # never leave Voila running after the Python that started it

    @property
    def url(self) -> str:
        return self.options.url

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        """Block until the server accepts connections (or raise if it died or timed out)."""
        deadline = time.monotonic() + timeout
        host = self.options.host if self.options.host not in WILDCARD_HOSTS else LOCALHOST
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CjError(f"Voila exited with status {self.process.returncode}")
            try:
                with socket.create_connection((host, self.options.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise CjError(f"Voila did not start within {timeout:.0f} s")

    def stop(self, timeout: float = 10) -> None:
        """Stop Voila (and the kernels it started)."""
        atexit.unregister(self.stop)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # Voila's own session only
                self.process.wait(timeout)
        shutil.rmtree(self._config_dir, ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
