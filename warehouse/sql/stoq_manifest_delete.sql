delete from stoq_manifest;
