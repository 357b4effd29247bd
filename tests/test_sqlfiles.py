"""sqlfiles.render: identifiers quoted, ints as literals, parts inserted, nothing else filled."""

from __future__ import annotations

import pytest

from cjlib.analyses import sqlfiles


@pytest.fixture
def fake_sql(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    files: dict[str, str] = {}
    monkeypatch.setattr(sqlfiles, "load_sql", lambda package, name: files[name])
    return files


def test_identifiers_are_quoted_and_ints_are_literals(fake_sql: dict[str, str]) -> None:
    fake_sql["q"] = "SELECT {{col}} FROM t WHERE step = {{k}}"
    assert sqlfiles.render("q", col='we"ird', k=3) == 'SELECT "we""ird" FROM t WHERE step = 3'


def test_bools_and_other_types_are_refused(fake_sql: dict[str, str]) -> None:
    fake_sql["q"] = "SELECT {{k}}"
    for bad in (True, 1.5, None):
        with pytest.raises(TypeError):
            sqlfiles.render("q", k=bad)
    with pytest.raises(KeyError):
        sqlfiles.render("q")


def test_parts_replace_their_line_and_are_not_filled_again(fake_sql: dict[str, str]) -> None:
    fake_sql["outer"] = "WITH a AS (SELECT {{x}}),\n    -- {{@inner}}\nSELECT 1"
    # the part's own {{text}} was rendered already: it must come through untouched
    out = sqlfiles.render("outer", parts={"inner": "b AS (SELECT '{{y}}')"}, x="c")
    assert out == "WITH a AS (SELECT \"c\"),\nb AS (SELECT '{{y}}')\nSELECT 1"
    with pytest.raises(KeyError):
        sqlfiles.render("outer", x="c")


def test_includes_render_another_file_with_their_own_identifiers(fake_sql: dict[str, str]) -> None:
    fake_sql["frag"] = "{{row}}.x = {{k}}"
    fake_sql["outer"] = "SELECT * FROM t AS {{t}}\nWHERE\n    -- {{>frag row=t k=2}}\n"
    out = sqlfiles.render("outer", t="t")
    assert out == 'SELECT * FROM t AS "t"\nWHERE\n"t".x = 2\n'
    # the include does not see the outer identifiers, nor the outer file the include's
    fake_sql["frag"] = "{{t}}.x"
    with pytest.raises(KeyError):
        sqlfiles.render("outer", t="t")


def test_step_conditions_are_one_fragment_shared_by_the_step_queries() -> None:
    """The queries that match steps read their conditions from step_conditions.sql."""
    for name in ("funnel", "funnel_any", "followup", "latency"):
        text = sqlfiles.load_sql(sqlfiles.PACKAGE, name)
        assert "-- {{>step_conditions row=e defs=" in text, name
        assert "CASE c.col" not in text, name
