-- places_near(lat, lng, radius_m): the places whose service area covers the point, nearest first,
-- with their distance in metres. PL/pgSQL, so its body holds semicolons of its own: cartomigrate
-- sends the migration whole and never splits inside a $$ body. OR REPLACE because drop, like
-- golang-migrate's postgres driver, drops tables only: up must work again after it.
CREATE OR REPLACE FUNCTION places_near(lat float8, lng float8, radius_m float8 DEFAULT 50000)
RETURNS TABLE (cartodb_id bigint, name text, distance_m float8)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  here geometry := CDB_LatLng(lat, lng);
BEGIN
  IF radius_m IS NULL OR radius_m <= 0 THEN
    RAISE EXCEPTION 'places_near: radius_m must be positive, got %', radius_m;
  END IF;
  RETURN QUERY
    SELECT p.cartodb_id, p.name, ST_Distance(p.the_geom::geography, here::geography)
    FROM places p
    WHERE p.service_area IS NOT NULL
      AND ST_DWithin(p.the_geom::geography, here::geography, radius_m)
    ORDER BY 3;
END
$$;

COMMENT ON FUNCTION places_near(float8, float8, float8) IS 'Places within radius_m metres of (lat, lng), nearest first';
