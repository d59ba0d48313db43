package maps_test

// metadataSQL installs cartodb.CDB_TableMetadata and its track_updates trigger function until
// the cartodb schema has them; trackUpdates adds the trigger to a table, as cartodbfy does.
const metadataSQL = `
CREATE TABLE IF NOT EXISTS cartodb.CDB_TableMetadata (
	tabname    regclass NOT NULL PRIMARY KEY,
	updated_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON cartodb.CDB_TableMetadata TO PUBLIC;
CREATE OR REPLACE FUNCTION cartodb.CDB_TableMetadata_Trigger() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  INSERT INTO cartodb.CDB_TableMetadata (tabname, updated_at) VALUES (TG_RELID, now())
  ON CONFLICT (tabname) DO UPDATE SET updated_at = EXCLUDED.updated_at;
  RETURN NULL;
END $$;
`

func trackUpdates(table string) string {
	return `CREATE TRIGGER track_updates AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ` + table +
		` FOR EACH STATEMENT EXECUTE FUNCTION cartodb.CDB_TableMetadata_Trigger()`
}
