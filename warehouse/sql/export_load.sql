-- Stage a downloaded CSV as it is, for warehouse.exports.load_report to inspect and merge.
create or replace temp table _export_csv as
select *
from read_csv($path, header = true, auto_detect = true);
