-- Move an old export table to the export namespace. {old} and {new} come only from
-- warehouse.exports.rename_legacy_tables (names checked against a strict pattern).
alter table {old} rename to {new};
