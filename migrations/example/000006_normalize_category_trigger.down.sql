DROP TRIGGER places_normalize_category ON places;
DROP FUNCTION places_normalize_category();
