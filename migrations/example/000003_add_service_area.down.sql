DROP INDEX places_service_area_idx;
ALTER TABLE places DROP COLUMN service_area;
