-- A table of places, cartodbfied: CDB_CartodbfyTable adds cartodb_id (the primary key), the_geom
-- (WGS 84) and the_geom_webmercator (kept in step by a trigger), with GiST indexes on both, which
-- is what CARTO's maps and APIs expect of a table.
CREATE TABLE places (
  name       text NOT NULL,
  country    text NOT NULL,
  category   text NOT NULL DEFAULT 'city',
  population integer CHECK (population >= 0)
);

COMMENT ON TABLE places IS 'Example places; see migrations/example';

SELECT CDB_CartodbfyTable(current_schema(), 'places');
