"""The data-health summary of an ingest: what was read, accepted, rejected and why, and how well
the feeds were stitched together."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from cjlib.db import query


@dataclass
class IngestReport:
    """Counts per file, reasons for rejects, and the stitching coverage."""

    client: str
    files: pd.DataFrame
    reject_reasons: pd.DataFrame
    stitching: pd.DataFrame
    customers: int
    events: int

    @classmethod
    def from_connection(cls, con: duckdb.DuckDBPyConnection, client: str) -> IngestReport:
        return cls(
            client=client,
            files=query(
                con,
                "SELECT feed, source_file, rows_read, accepted, rejected, duplicates, events, "
                "first_ts, last_ts FROM ingest_log ORDER BY feed, source_file",
            ),
            reject_reasons=query(
                con,
                'SELECT feed, code, "column", count(*) AS rows, min(source_row) AS first_row, '
                "any_value(reason) AS reason FROM rejects GROUP BY ALL ORDER BY feed, rows DESC",
            ),
            stitching=query(con, "SELECT * FROM stitching ORDER BY feed"),
            customers=int(con.execute("SELECT count(*) FROM customers").fetchone()[0]),
            events=int(con.execute("SELECT count(*) FROM events").fetchone()[0]),
        )

    @property
    def reconciles(self) -> bool:
        """rows read = accepted + rejected + duplicates, for every file."""
        f = self.files
        return bool((f.rows_read == f.accepted + f.rejected + f.duplicates).all())

    def render(self) -> str:
        """Plain-text summary for the terminal."""
        totals = self.files[["rows_read", "accepted", "rejected", "duplicates", "events"]].sum()
        lines = [
            f"Client {self.client}: {self.events:,} events, {self.customers:,} customers "
            f"from {len(self.files)} files",
            f"  rows read {totals.rows_read:,} = accepted {totals.accepted:,} + rejected "
            f"{totals.rejected:,} + duplicates {totals.duplicates:,}"
            + ("" if self.reconciles else "   <-- DOES NOT RECONCILE"),
            "",
            "Files:",
            _table(self.files.drop(columns=["feed"])),
        ]
        if len(self.reject_reasons):
            lines += ["", "Rejected rows by reason:", _table(self.reject_reasons)]
        lines += ["", "Stitching (customers seen in more than one feed):", _table(self.stitching)]
        return "\n".join(lines)


def _table(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False, max_colwidth=60) if len(frame) else "  (none)"
