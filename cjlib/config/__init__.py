"""Loading and validating client workspaces (client.yml)."""

from cjlib.config.schema import ClientConfig, SourceConfig
from cjlib.config.workspace import Workspace, find_workspace, list_workspaces, load_config

__all__ = [
    "ClientConfig",
    "SourceConfig",
    "Workspace",
    "find_workspace",
    "list_workspaces",
    "load_config",
]
