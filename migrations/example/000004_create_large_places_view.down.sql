DROP VIEW large_places;
