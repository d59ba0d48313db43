-- A 25 km service area around each place: a new geometry column, filled from the_geom (buffered
-- on the geography, so the distance is metres everywhere), with its own GiST index for the
-- spatial queries of migration 5.
ALTER TABLE places ADD COLUMN service_area geometry(Polygon, 4326);

UPDATE places
SET service_area = ST_Buffer(the_geom::geography, 25000)::geometry
WHERE the_geom IS NOT NULL;

CREATE INDEX places_service_area_idx ON places USING gist (service_area);
