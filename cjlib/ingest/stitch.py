"""Identity stitching: customers are the connected components of the graph in which every accepted
row is tied to each of its identifiers.

The identifiers are the vertices and each row ties its identifiers to its smallest one; scipy finds
the components in one pass over these edges (rounds of label propagation in SQL cost a join over
every edge per round). Component labels
are arbitrary numbers: customer ids are assigned in SQL from each component's first activity and
smallest identifier hash (sql/customers_map.sql), so they do not depend on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

NO_TIME = np.iinfo(np.int64).max  # a row without events: its component's first activity is NULL
ROW_BITS = 0xFFFFFFFF  # a row key is (file << 32) | row


BATCH = 1 << 20  # row_ids entries per batch: numpy holds per-row and per-node arrays, not edges
ROWS_PER_INSERT = 1 << 23  # rows whose customer is computed and inserted at once


@dataclass
class Components:
    """Stitching result: every identifier's component label (by node - 1), and each row's anchor,
    its smallest node (node - 1; n_nodes for a row without identifier), by dense row index
    offset[file] + row."""

    labels: np.ndarray
    anchor: np.ndarray
    offset: np.ndarray


def stitch(con: duckdb.DuckDBPyConnection) -> Components:
    """From row_ids (row_key, node, first_us) and stitch_nodes, create stitch_labels (node ->
    label) and component_first (label -> first_us, the earliest event of the component's rows in
    microseconds, NO_TIME when they have none); return the labels and the rows' anchors.

    A row ties its identifiers together, so the graph has an edge from each of a row's nodes to
    the row's smallest node (its anchor): rows with one identifier add no edge. row_ids is read
    twice in batches (anchors and each node's first time, then edges).
    """
    n_nodes = int(con.execute("SELECT count(*) FROM stitch_nodes").fetchone()[0])
    size = np.zeros(0, dtype=np.int64)
    for file_id, rows in con.execute(
        "SELECT row_key >> 32, max(row_key & 4294967295) + 1 FROM row_ids GROUP BY ALL"
    ).fetchall():
        size = np.pad(size, (0, max(0, file_id + 1 - len(size))))
        size[file_id] = rows
    offset = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
    anchor = np.full(int(size.sum()), n_nodes, dtype=np.int32)
    node_first = np.full(n_nodes, NO_TIME, dtype=np.int64)
    for row, node, first_us in _entries(con, offset):
        np.minimum.at(anchor, row, node)
        np.minimum.at(node_first, node, first_us)
    edges = []
    for row, node, _ in _entries(con, offset):
        tied = anchor[row]
        edge = node != tied
        edges.append((node[edge], tied[edge]))
    a = np.concatenate([e[0] for e in edges]) if edges else np.zeros(0, dtype=np.int32)
    b = np.concatenate([e[1] for e in edges]) if edges else np.zeros(0, dtype=np.int32)
    del edges
    graph = coo_array((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n_nodes, n_nodes)).tocsr()
    del a, b
    n_labels, labels = connected_components(graph, directed=True, connection="weak")
    del graph
    first = np.full(n_labels, NO_TIME, dtype=np.int64)
    np.minimum.at(first, labels, node_first)
    del node_first
    _create(con, "stitch_labels", {"node": np.arange(1, n_nodes + 1), "label": labels})
    _create(con, "component_first", {"label": np.arange(n_labels), "first_us": first})
    return Components(labels.astype(np.int32), anchor, offset)


def _entries(
    con: duckdb.DuckDBPyConnection, offset: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """row_ids in batches: (dense row index, node - 1, first_us with NO_TIME for NULL)."""
    reader = con.sql(
        f"SELECT row_key, CAST(node - 1 AS INTEGER) AS node, "
        f"coalesce(first_us, {NO_TIME}) AS first_us FROM row_ids"
    ).to_arrow_reader(BATCH)
    for batch in reader:
        row_key = batch.column("row_key").to_numpy()
        row = offset[row_key >> 32] + (row_key & ROW_BITS)
        yield row, batch.column("node").to_numpy(), batch.column("first_us").to_numpy()


def row_customers(con: duckdb.DuckDBPyConnection, components: Components) -> None:
    """Create node_customer (node -> customer_id) and row_customer (row_key -> customer_id, one
    per row with an identifier) from component_customer (label -> customer_id). Rows are done
    ROWS_PER_INSERT at a time: at 100M events whole-table index arrays take gigabytes."""
    by_label = con.execute("SELECT label, customer_id FROM component_customer").fetchnumpy()
    customer_of = np.zeros(len(components.labels), dtype=np.int64)
    customer_of[np.asarray(by_label["label"])] = np.asarray(by_label["customer_id"])
    del by_label
    _create(
        con,
        "node_customer",
        {
            "node": np.arange(1, len(components.labels) + 1),
            "customer_id": customer_of[components.labels],
        },
    )
    n_nodes = len(components.labels)
    for start in range(0, max(len(components.anchor), 1), ROWS_PER_INSERT):
        anchor = components.anchor[start:start + ROWS_PER_INSERT]
        with_id = np.flatnonzero(anchor < n_nodes)
        row = with_id + start
        row_file = np.searchsorted(components.offset, row, side="right") - 1
        row_key = (row_file << 32) | (row - components.offset[row_file])
        customer_id = customer_of[components.labels[anchor[with_id]]]
        _create(con, "row_customer", {"row_key": row_key, "customer_id": customer_id},
                append=start > 0)
    con.execute("DROP TABLE component_customer")


def _create(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, np.ndarray], *,
            append: bool = False) -> None:
    """A staging table from numpy columns (scanned in place by DuckDB, not converted row by
    row), or more rows for it (append)."""
    frame = pd.DataFrame({name: values.astype(np.int64, copy=False)
                          for name, values in columns.items()})
    con.register("_stitch_frame", frame)
    try:
        if append:
            con.execute(f"INSERT INTO {table} SELECT * FROM _stitch_frame")
        else:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _stitch_frame")
    finally:
        con.unregister("_stitch_frame")
