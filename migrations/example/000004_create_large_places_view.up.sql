-- Large places only. A view keeps cartodb_id and both geometries, so CARTO can map it like a
-- table.
CREATE VIEW large_places AS
SELECT cartodb_id, name, country, population, the_geom, the_geom_webmercator
FROM places
WHERE population >= 1000000;

COMMENT ON VIEW large_places IS 'Places of a million people or more';
