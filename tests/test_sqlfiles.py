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
