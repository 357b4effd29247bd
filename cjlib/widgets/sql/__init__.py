"""SQL behind the dashboard's own numbers (headline figures and filter choices)."""
