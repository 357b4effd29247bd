"""The benchmark harness runs end to end at the tiny size (so it cannot rot), its peers compute
the same answers as cjlib, and its equality check can fail. No timing is asserted."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from cjlib.bench import parse_sizes, run_bench
from cjlib.bench.answers import compare
from cjlib.bench.data import Dataset
from cjlib.bench.entries import funnel, latency, paths
from cjlib.bench.measure import measure
from cjlib.bench.registry import CHECKED, ENTRIES, analyses, entries_for, load, missing
from cjlib.cli import bench_commands

OK_OR_SAYS_WHY = {"ok", "pending", "unavailable"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    """One whole benchmark run at the tiny size, in-process (subprocesses are tested below)."""
    cache = tmp_path_factory.mktemp("bench")
    out = cache / "results.md"
    run = run_bench(parse_sizes("tiny"), cache=cache, out=out, isolate=False,
                    log=lambda line: None)
    return run, out, Dataset("tiny", cache / "tiny")


def test_every_registered_entry_is_measured_or_says_why(tiny):
    run, _, _ = tiny
    for item in analyses():
        for entry in entries_for(item.name):
            m = run.find("tiny", item.name, entry.engine)
            assert m is not None, entry.key
            assert m.status in OK_OR_SAYS_WHY, (entry.key, m.status, m.detail)
            if m.status != "ok":
                assert m.detail and missing(entry), entry.key


def test_every_peer_agrees_with_cjlib_when_cjlib_answers(tiny):
    run, _, _ = tiny
    for item in analyses():
        cj = run.find("tiny", item.name, "cjlib")
        reference = "cjlib" if cj is not None and cj.ok else None
        for engine in CHECKED:
            m = run.find("tiny", item.name, engine)
            if m is None or m.status != "ok":
                continue
            assert m.times, (item.name, engine)
            if reference:
                assert m.checked_against == "cjlib", (item.name, engine)


def test_results_md_has_each_measured_analysis_and_the_pending_ones(tiny):
    run, out, _ = tiny
    text = out.read_text()
    assert "## Machine" in text and "## Targets" in text
    for item in analyses():
        if any(m.analysis == item.name for m in run.measurements):
            assert f"## {item.title}" in text
    for m in run.measurements:
        if m.status == "pending":
            assert f"tiny {m.analysis} / cjlib: not available yet" in text


def test_the_report_can_be_rewritten_from_the_saved_run(tiny, tmp_path):
    import click

    _, out, ds = tiny

    @click.group()
    def cli() -> None:
        pass

    bench_commands.register(cli)
    again = tmp_path / "again.md"
    result = CliRunner().invoke(cli, ["bench", "--report-only", "--cache", str(ds.root.parent),
                                      "--out", str(again)])
    assert result.exit_code == 0, result.output
    assert again.read_text() == out.read_text()


def test_a_subprocess_measurement_reports_peak_memory(tiny):
    _, _, ds = tiny
    m = measure(ENTRIES[("paths", "floor")], ds, size="tiny", warmups=1, reps=2, budget_s=30,
                timeout_s=120, max_rss=4 * 2**30)
    assert m.status == "ok", m.detail
    assert 1 <= len(m.times) <= 2
    assert m.peak_rss and m.base_rss and m.peak_rss >= m.base_rss


def test_a_peer_that_disagrees_is_reported_and_not_timed(tiny):
    _, _, ds = tiny
    reference = paths.pandas_paths(ds)
    wrong = reference.assign(n=reference["n"] + (reference.index == 0))
    from cjlib.bench.answers import to_json

    m = measure(ENTRIES[("paths", "pandas")], ds, size="tiny", warmups=1, reps=3, budget_s=30,
                timeout_s=120, max_rss=4 * 2**30, expected=to_json(wrong),
                expected_engine="cjlib", isolate=False)
    assert m.status == "mismatch"
    assert m.times == [] and "1 of" in m.detail


def test_compare_ignores_row_order_and_finds_a_difference():
    a = pd.DataFrame({"k": ["x", "y"], "n": [1, 2]})
    assert compare(a.iloc[::-1], a, ("k",)) is None
    assert compare(a.assign(n=[1, 3]), a, ("k",)) is not None
    assert compare(a.iloc[:1], a, ("k",)) is not None
    assert compare(a.assign(n=[1.0, 2.0 + 1e-12]), a, ("k",)) is None


# ------------------------------------------------------------- peers on hand-made event logs

T0 = datetime(2024, 3, 1, 9, 0)
DAY = timedelta(days=1)


def _dataset(tmp_path: Path, rows: list[tuple]) -> Dataset:
    ds = Dataset("hand", tmp_path)
    frame = pd.DataFrame(rows, columns=["customer_id", "ts", "event", "case_id"])
    frame["event_id"] = range(1, len(frame) + 1)
    frame["ts"] = frame["ts"].astype("datetime64[us]")
    for column in ("channel", "source"):
        frame[column] = "web"
    frame["value"] = None
    frame.to_parquet(ds.events_parquet)
    ds.workspace.mkdir(parents=True)
    con = duckdb.connect(str(ds.warehouse))
    con.execute("CREATE TABLE events AS SELECT * FROM read_parquet($p)",
                {"p": str(ds.events_parquet)})
    con.close()
    return ds


FUNNEL_LOG = [
    # 1: purchase 31 days after the only entry that reaches quote -> furthest step 3
    (1, T0, "page_view", None), (1, T0 + DAY, "quote_start", None),
    (1, T0 + 2 * DAY, "quote", None), (1, T0 + 5 * DAY, "page_view", None),
    (1, T0 + 31 * DAY, "purchase", None),
    # 2: quote_start at the same time as the entry counts; purchase exactly 30 days later counts
    (2, T0, "page_view", None), (2, T0, "quote_start", None),
    (2, T0 + timedelta(hours=1), "quote", None), (2, T0 + 30 * DAY, "purchase", None),
    # 3: never enters (no page_view)
    (3, T0, "quote_start", None), (3, T0 + DAY, "quote", None),
    # 4: the first entry stalls at quote_start (quote 40 days on); the second entry completes
    (4, T0, "page_view", None), (4, T0 + 20 * DAY, "page_view", None),
    (4, T0 + 25 * DAY, "quote_start", None), (4, T0 + 40 * DAY, "quote", None),
    (4, T0 + 45 * DAY, "purchase", None),
]


@pytest.mark.parametrize("engine", ["pandas", "polars", "chdb", "duckdb"])
def test_funnel_peers_count_every_entry_within_the_window_from_the_entry(tmp_path, engine):
    entry = ENTRIES[("funnel", engine)]
    if missing(entry):
        pytest.skip(missing(entry))
    answer = entry.fn(_dataset(tmp_path, FUNNEL_LOG))
    # by hand: reached step 1 = {1,2,4}, 2 = {1,2,4}, 3 = {1,2,4}, 4 = {2,4}
    assert answer["reached"].tolist() == [3, 3, 3, 2]


def test_retentioneering_funnel_is_first_entry_without_a_window(tmp_path):
    entry = ENTRIES[("funnel_first", "retentioneering")]
    if missing(entry):
        pytest.skip(missing(entry))
    # retentioneering orders equal times by row position, so customer 2's tie is moved apart
    log = [(c, t + timedelta(minutes=1) if (c, e) == (2, "quote_start") else t, e, k)
           for c, t, e, k in FUNNEL_LOG]
    answer = entry.fn(_dataset(tmp_path, log))
    # by hand, from each first page_view with no window: 1, 2 and 4 all reach purchase
    assert answer["reached"].tolist() == [3, 3, 3, 3]
    assert list(funnel.STEPS) == ["page_view", "quote_start", "quote", "purchase"]


M = timedelta(minutes=1)
LATENCY_LOG = [
    (1, T0, "quote", "Q1"), (1, T0 + 20 * M, "followup_call", "Q1"),  # 20 min is "within 20"
    (1, T0 + 30 * DAY, "purchase", "O1"),  # converted: 30 days is inside the window
    (2, T0, "quote", "Q2"), (2, T0 + 21 * M, "followup_call", "Q2"),
    (2, T0 + 31 * DAY, "purchase", "O2"),  # 20 min-1 h, not converted (31 days)
    (3, T0, "quote", "Q3"), (3, T0 - 5 * M, "followup_call", "Q3"),  # before the quote: ignored
    (3, T0 + 120 * M, "followup_call", "Q3"),  # after 1 h
    (4, T0, "quote", "Q4"), (4, T0 + DAY, "purchase", "O4"),  # no follow-up, converted
    (5, T0, "quote", "Q5"), (5, T0 + 5 * M, "followup_call", "Q9"),  # another case's call
    (6, T0, "quote", "Q6"), (6, T0 + 10 * M, "followup_call", None),  # no case: the customer's
    (7, T0, "quote", "Q7"), (7, T0 + 31 * DAY, "followup_call", "Q7"),  # past the window: none
    (8, T0 + 60 * M, "quote", "Q8"), (8, T0, "quote", "Q8"),  # the earlier occurrence opens it
    (8, T0 + 30 * M, "followup_call", "Q8"), (8, T0 + 30 * DAY + 30 * M, "purchase", "O8"),
]


@pytest.mark.parametrize("engine", ["pandas", "polars", "chdb"])
def test_latency_peers_follow_the_case_rules(tmp_path, engine):
    entry = ENTRIES[("latency", engine)]
    if missing(entry):
        pytest.skip(missing(entry))
    answer = entry.fn(_dataset(tmp_path, LATENCY_LOG)).set_index("bucket")
    # by hand: within 20 min = {1 (won), 6}, 20 min-1 h = {2, 8}, after 1 h = {3},
    # no follow-up = {4 (won), 5, 7}
    expected = {"within 20 min": (2, 1), "20 min-1 h": (2, 0), "after 1 h": (1, 0),
                "no follow-up": (3, 1)}
    assert set(answer.index) == set(expected) == set(latency.LABELS)
    for bucket, (cases, conversions) in expected.items():
        assert (answer.loc[bucket, "cases"], answer.loc[bucket, "conversions"]) == (
            cases, conversions), bucket


PATHS_LOG = [
    (1, T0, "page_view", None), (1, T0 + DAY, "quote", None), (1, T0 + DAY, "purchase", None),
    (2, T0, "quote", None),
]


@pytest.mark.parametrize("engine", ["pandas", "polars", "chdb"])
def test_paths_peers_count_consecutive_pairs_with_start_and_end(tmp_path, engine):
    entry = ENTRIES[("paths", engine)]
    if missing(entry):
        pytest.skip(missing(entry))
    answer = entry.fn(_dataset(tmp_path, PATHS_LOG))
    got = {(r.from_state, r.to_state): r.n for r in answer.itertuples()}
    # equal times are ordered by event_id: quote (id 2) before purchase (id 3)
    assert got == {("(start)", "page_view"): 1, ("page_view", "quote"): 1,
                   ("quote", "purchase"): 1, ("purchase", "(end)"): 1,
                   ("(start)", "quote"): 1, ("quote", "(end)"): 1}


def test_cli_rejects_an_unknown_analysis_and_explains_itself():
    import click

    @click.group()
    def cli() -> None:
        pass

    bench_commands.register(cli)
    assert CliRunner().invoke(cli, ["bench", "--help"]).exit_code == 0
    result = CliRunner().invoke(cli, ["bench", "--sizes", "tiny", "--only", "nope"])
    assert result.exit_code == 2 and "nope" in result.output


def test_sizes_parse_the_ladder_and_event_counts():
    assert [s.name for s in parse_sizes(None)] == ["1M", "10M", "100M"]
    (size,) = parse_sizes("250k")
    assert 25_000 <= size.customers <= 30_000
    load()
    assert {"ingest", "funnel", "latency", "paths", "retention", "nuggets"} <= {
        a.name for a in analyses()}


def test_append_keeps_the_other_sizes_and_names_each_invocation(tiny):
    from dataclasses import replace

    from cjlib.bench.measure import Measurement
    from cjlib.bench.report import render
    from cjlib.bench.runner import _merge

    run, _, _ = tiny
    later = replace(run, command="cj bench --sizes 9M --append", sizes=["9M"], parts=[],
                    datasets={"9M": run.datasets["tiny"]},
                    measurements=[Measurement("paths", "floor", "9M", "ok", times=[1.0],
                                              cpu=[1.0])])
    merged = _merge(run, later)
    assert merged.sizes == ["tiny", "9M"]
    assert {m.size for m in merged.measurements} == {"tiny", "9M"}
    assert [p["sizes"] for p in merged.parts] == [["tiny"], ["9M"]]
    assert "cj bench --sizes 9M --append" in render(merged)
    again = _merge(merged, later)  # measuring a size again replaces it
    assert len([m for m in again.measurements if m.size == "9M"]) == 1


def test_the_report_says_how_long_the_run_took_and_what_generation_adds(tiny):
    from dataclasses import replace

    from cjlib.bench.report import render

    run, _, _ = tiny
    timed = replace(run, started="2026-01-01T10:00:00+00:00",
                    finished="2026-01-01T10:30:00+00:00", parts=[],
                    datasets={"tiny": {**run.datasets["tiny"], "generation_s": None,
                                       "generation_cached_s": 600.0}})
    text = render(timed)
    assert "(tiny): 30.0 min" in text
    assert "as on a fresh machine, adds about 10.0 min" in text


def test_append_of_one_analysis_keeps_the_sizes_other_analyses(tiny):
    from dataclasses import replace

    from cjlib.bench.measure import Measurement
    from cjlib.bench.runner import _merge

    run, _, _ = tiny
    again = [Measurement("ingest", engine, "tiny", "ok", times=[9.0], cpu=[9.0])
             for engine in ("cjlib", "floor")]
    later = replace(run, command="cj bench --sizes tiny --only ingest --append", parts=[],
                    measurements=again)
    merged = _merge(run, later)
    before = {(m.analysis, m.engine) for m in run.measurements}
    assert {(m.analysis, m.engine) for m in merged.measurements} == before
    assert [m.times for m in merged.measurements
            if (m.analysis, m.engine) == ("ingest", "cjlib")] == [[9.0]]
    assert [p["command"] for p in merged.parts][-1].endswith("--only ingest --append")
