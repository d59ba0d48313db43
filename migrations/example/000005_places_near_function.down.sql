DROP FUNCTION places_near(float8, float8, float8);
