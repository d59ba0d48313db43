-- Sample points. CDB_LatLng takes latitude first; ST_SetSRID(ST_MakePoint(lng, lat), 4326) is the
-- same point written with PostGIS alone (longitude first).
INSERT INTO places (name, country, category, population, the_geom) VALUES
  ('Madrid',        'Spain',          'capital', 3332035, CDB_LatLng(40.4168, -3.7038)),
  ('Barcelona',     'Spain',          'city',    1660314, CDB_LatLng(41.3874, 2.1686)),
  ('Valencia',      'Spain',          'city',     807693, CDB_LatLng(39.4699, -0.3763)),
  ('Sevilla',       'Spain',          'city',     684234, CDB_LatLng(37.3891, -5.9845)),
  ('Lisboa',        'Portugal',       'capital',  545796, CDB_LatLng(38.7223, -9.1393)),
  ('Porto',         'Portugal',       'city',     231962, CDB_LatLng(41.1579, -8.6291)),
  ('Paris',         'France',         'capital', 2102650, CDB_LatLng(48.8566, 2.3522)),
  ('Lyon',          'France',         'city',     522250, CDB_LatLng(45.7640, 4.8357)),
  ('New York',      'United States',  'city',    8258035, CDB_LatLng(40.7128, -74.0060)),
  ('Washington',    'United States',  'capital',  678972, CDB_LatLng(38.9072, -77.0369));

-- Places written with PostGIS directly, as a tool that knows no CARTO functions would.
INSERT INTO places (name, country, category, population, the_geom) VALUES
  ('Teide',         'Spain',          'peak',          0, ST_SetSRID(ST_MakePoint(-16.6425, 28.2724), 4326)),
  ('Mont Blanc',    'France',         'peak',          0, ST_SetSRID(ST_MakePoint(6.8652, 45.8326), 4326)),
  ('Null Island',   'None',           'landmark',   NULL, ST_SetSRID(ST_MakePoint(0, 0), 4326));
