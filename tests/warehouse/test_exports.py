"""Report exports: `export_<name>` tables apart from the `report_*` dashboard views."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from warehouse import exports, schema

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def tables(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = conn.execute("select table_name, table_type from information_schema.tables")
    return dict(rows.fetchall())


def test_load_report_replaces_the_table_in_one_go(conn, tmp_path):
    csv = tmp_path / "revenue.csv"
    csv.write_text("bucket,revenue\n2026-02-01,100.50\n2026-02-02,3.25\n")
    assert exports.load_report(conn, "revenue", csv, loaded_at=T0) == 2
    csv.write_text("bucket,revenue\n2026-02-03,7.00\n")
    assert exports.load_report(conn, "revenue", csv) == 1
    rows = conn.execute("select bucket::varchar, revenue from export_revenue").fetchall()
    assert rows == [("2026-02-03", 7.0)]
    columns = [r[0] for r in conn.execute("describe export_revenue").fetchall()]
    assert columns == ["shop", "bucket", "revenue", "_loaded_at"]
    assert conn.execute("select distinct shop from export_revenue").fetchall() == [("default",)]


def test_load_report_rejects_unknown_names_and_keeps_the_old_table(conn, tmp_path):
    csv = tmp_path / "r.csv"
    csv.write_text("a\n1\n")
    with pytest.raises(ValueError, match="unknown report"):
        exports.load_report(conn, "summary; drop table jobs", csv)
    exports.load_report(conn, "summary", csv)
    with pytest.raises(duckdb.Error):
        exports.load_report(conn, "summary", tmp_path / "missing.csv")
    assert conn.execute("select a from export_summary").fetchall() == [(1,)]


def test_load_report_takes_any_well_formed_name_the_known_list_lacks(conn, tmp_path):
    csv = tmp_path / "r.csv"
    csv.write_text("channel,orders\nweb,3\n")
    assert "by_channel" not in exports.KNOWN_REPORTS
    assert exports.load_report(conn, "by_channel", csv) == 1
    assert conn.execute("select channel, orders from export_by_channel").fetchall() == [("web", 3)]


@pytest.mark.parametrize(
    "name", ["Summary", "summary\n", "1st", "_x", "a" * 42, "by-date", "x y", 'x"; drop', ""]
)
def test_report_names_outside_the_pattern_never_name_a_table(conn, tmp_path, name):
    csv = tmp_path / "r.csv"
    csv.write_text("a\n1\n")
    with pytest.raises(ValueError, match="unknown report"):
        exports.load_report(conn, name, csv)
    assert exports.export_table("a" * 41) == "export_" + "a" * 41


def test_a_report_named_like_a_dashboard_view_loads_and_leaves_the_view(conn, tmp_path):
    csv = tmp_path / "k.csv"
    csv.write_text("metric,value\norders,12\n")
    before = conn.execute("select * from report_key_figures").fetchall()
    assert exports.load_report(conn, "key_figures", csv) == 1
    assert conn.execute("select metric, value from export_key_figures").fetchall() == [
        ("orders", 12)
    ]
    assert tables(conn)["report_key_figures"] == "VIEW"
    assert conn.execute("select * from report_key_figures").fetchall() == before


def test_an_old_export_table_is_renamed_on_open_with_its_rows(tmp_path):
    path = str(tmp_path / "old.duckdb")
    with duckdb.connect(path) as old:
        schema.apply(old)
        old.execute("create table report_by_offer as select 'A' as offer, 3 as orders")
        # an old export under a new name the view namespace would have refused anyway
        old.execute("create table report_summary as select 1 as n")
        # recorded by that older release's own schema files
        old.execute("update schema_meta set value = 'older' where key = 'schema_files'")
    with duckdb.connect(path) as conn:
        schema.apply(conn)
        found = tables(conn)
        assert conn.execute("select * from export_by_offer").fetchall() == [("A", 3)]
        assert conn.execute("select n from export_summary").fetchall() == [(1,)]
        assert "report_by_offer" not in found and "report_summary" not in found
        assert found["report_key_figures"] == "VIEW"  # the views stay where they are
        schema.apply(conn)  # idempotent: nothing left to move, nothing lost
        assert exports.rename_legacy_tables(conn) == []
        assert conn.execute("select * from export_by_offer").fetchall() == [("A", 3)]


def test_an_old_table_whose_new_name_is_taken_is_left_alone(conn):
    conn.execute("create table report_revenue as select 1 as old")
    conn.execute("create table export_revenue as select 2 as new")
    assert exports.rename_legacy_tables(conn) == []
    assert conn.execute("select new from export_revenue").fetchall() == [(2,)]
    assert conn.execute("select old from report_revenue").fetchall() == [(1,)]


def test_only_tables_named_like_exports_move(conn):
    conn.execute("create table report_Weird as select 1 as a")  # not a report name: stays
    assert exports.rename_legacy_tables(conn) == []
    assert "report_Weird" in tables(conn) or "report_weird" in tables(conn)


def test_two_shops_exports_of_one_report_keep_both(conn, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("bucket,revenue\n2026-02-01,100.50\n2026-02-02,3.25\n")
    b.write_text("bucket,revenue,extra\n2026-02-01,oops,1\n")
    assert exports.load_report(conn, "revenue", a, shop="a", loaded_at=T0) == 2
    assert exports.load_report(conn, "revenue", b, shop="b") == 1
    count = "select shop, count(*) from export_revenue group by 1 order by 1"
    assert conn.execute(count).fetchall() == [("a", 2), ("b", 1)]
    # b's columns and types differ: a's rows keep theirs by name (the wider type, null extras)
    row = conn.execute("select revenue, extra from export_revenue where shop = 'b'").fetchone()
    assert row == ("oops", 1)
    a_rows = "select revenue, extra, _loaded_at from export_revenue where shop = 'a' order by 1"
    assert conn.execute(a_rows).fetchall() == [("100.5", None, T0), ("3.25", None, T0)]
    # shop a's next export replaces a's rows only
    a.write_text("bucket,revenue\n2026-02-03,7.00\n")
    assert exports.load_report(conn, "revenue", a, shop="a") == 1
    assert conn.execute(count).fetchall() == [("a", 1), ("b", 1)]
    # a failed load of one shop changes nothing
    with pytest.raises(duckdb.Error):
        exports.load_report(conn, "revenue", tmp_path / "missing.csv", shop="b")
    assert conn.execute(count).fetchall() == [("a", 1), ("b", 1)]


def test_an_export_table_from_before_shops_keeps_its_rows_as_default(conn, tmp_path):
    conn.execute("create table export_summary as select 5 as n, now() as _loaded_at")
    csv = tmp_path / "s.csv"
    csv.write_text("n\n7\n")
    assert exports.load_report(conn, "summary", csv, shop="eu") == 1
    rows = conn.execute("select shop, n from export_summary order by shop").fetchall()
    assert rows == [("default", 5), ("eu", 7)]


def test_a_report_column_named_shop_is_refused(conn, tmp_path):
    csv = tmp_path / "s.csv"
    csv.write_text("shop,n\nx,1\n")
    with pytest.raises(ValueError, match="column named shop"):
        exports.load_report(conn, "summary", csv)
    assert "export_summary" not in tables(conn)
