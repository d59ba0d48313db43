-- The cartodb schema: the CARTO SQL functions cartolocal offers, written for cartolocal after the
-- behaviour documented for CARTO's cartodb-postgresql extension. cartolocal runs this file at every
-- start, so every statement is idempotent. @postgis@ stands for the (quoted) schema holding PostGIS;
-- functions name everything by schema so that they behave the same whatever the caller's
-- search_path is, and SQL functions stay inlinable.

CREATE SCHEMA IF NOT EXISTS cartodb;

-- CDB_LatLng makes a WGS 84 point from a latitude and a longitude (note the order).
CREATE OR REPLACE FUNCTION cartodb.CDB_LatLng(lat float8, lng float8)
RETURNS @postgis@.geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT @postgis@.ST_SetSRID(@postgis@.ST_MakePoint(lng, lat), 4326) $$;

-- CDB_TransformToWebmercator projects a geometry to web mercator (EPSG:3857). Web mercator is
-- undefined at the poles, so what lies beyond the square world of web maps (latitude ±85.0511°,
-- longitude ±180°) is clipped away first; a geometry wholly outside becomes empty. A geometry
-- without SRID is taken as WGS 84, which is what CARTO tables hold.
-- _CDB_TransformToWebmercator is the whole of it; CDB_TransformToWebmercator, below, calls it for
-- what its own fast path does not cover.
CREATE OR REPLACE FUNCTION cartodb._CDB_TransformToWebmercator(geom @postgis@.geometry)
RETURNS @postgis@.geometry
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
  max_lat CONSTANT float8 := 85.0511287798066;
  srid int := @postgis@.ST_SRID(geom);
  latlng @postgis@.geometry;
BEGIN
  IF srid = 3857 THEN
    RETURN geom;
  END IF;
  IF srid IN (0, 4326) THEN
    latlng := @postgis@.ST_SetSRID(geom, 4326);
  ELSE
    latlng := @postgis@.ST_Transform(geom, 4326);
  END IF;
  -- Only geometries whose box leaves the valid extent pay for an intersection.
  IF NOT @postgis@.ST_IsEmpty(latlng) AND (
       @postgis@.ST_YMin(latlng::@postgis@.box3d) < -max_lat OR @postgis@.ST_YMax(latlng::@postgis@.box3d) > max_lat OR
       @postgis@.ST_XMin(latlng::@postgis@.box3d) < -180 OR @postgis@.ST_XMax(latlng::@postgis@.box3d) > 180) THEN
    BEGIN
      latlng := @postgis@.ST_Intersection(latlng, @postgis@.ST_MakeEnvelope(-180, -max_lat, 180, max_lat, 4326));
    EXCEPTION WHEN others THEN
      -- GEOS refuses some invalid geometries; repair, then clip.
      latlng := @postgis@.ST_Intersection(@postgis@.ST_MakeValid(latlng), @postgis@.ST_MakeEnvelope(-180, -max_lat, 180, max_lat, 4326));
    END;
  END IF;
  RETURN @postgis@.ST_Transform(latlng, 3857);
END
$$;

-- The common case, a WGS 84 geometry inside web mercator's square, is plain SQL, which
-- PostgreSQL inlines into the query calling it: no function call per row, which an import's
-- rewrite of millions of rows, cartodbfy's check of them and every trigger call would pay. A
-- point is tested on its coordinates, cheaper than on a box. Everything else goes to
-- _CDB_TransformToWebmercator, with the same result.
CREATE OR REPLACE FUNCTION cartodb.CDB_TransformToWebmercator(geom @postgis@.geometry)
RETURNS @postgis@.geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE
    WHEN geom IS NULL THEN NULL
    WHEN @postgis@.ST_SRID(geom) NOT IN (0, 4326) OR @postgis@.ST_IsEmpty(geom) THEN cartodb._CDB_TransformToWebmercator(geom)
    WHEN @postgis@.GeometryType(geom) = 'POINT' THEN
      CASE WHEN @postgis@.ST_X(geom) BETWEEN -180 AND 180 AND @postgis@.ST_Y(geom) BETWEEN -85.0511287798066 AND 85.0511287798066
        THEN @postgis@.ST_Transform(@postgis@.ST_SetSRID(geom, 4326), 3857)
        ELSE cartodb._CDB_TransformToWebmercator(geom)
      END
    WHEN @postgis@.ST_YMin(geom::@postgis@.box3d) >= -85.0511287798066 AND @postgis@.ST_YMax(geom::@postgis@.box3d) <= 85.0511287798066 AND
         @postgis@.ST_XMin(geom::@postgis@.box3d) >= -180 AND @postgis@.ST_XMax(geom::@postgis@.box3d) <= 180
      THEN @postgis@.ST_Transform(@postgis@.ST_SetSRID(geom, 4326), 3857)
    ELSE cartodb._CDB_TransformToWebmercator(geom)
  END
$$;

-- _CDB_update_the_geom_webmercator keeps the_geom_webmercator in step with the_geom on every
-- insert and update, so that a write of either column cannot leave them apart.
CREATE OR REPLACE FUNCTION cartodb._CDB_update_the_geom_webmercator()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  NEW.the_geom_webmercator := cartodb.CDB_TransformToWebmercator(NEW.the_geom);
  RETURN NEW;
END
$$;

-- _CDB_primary_key is the name and the columns, in key order, of rel's primary key; no row when
-- it has none.
CREATE OR REPLACE FUNCTION cartodb._CDB_primary_key(rel regclass, OUT name text, OUT cols name[])
RETURNS SETOF record
LANGUAGE sql STABLE
AS $$
  SELECT con.conname::text, array_agg(a.attname ORDER BY k.ord)
  FROM pg_constraint con
  CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
  WHERE con.conrelid = rel AND con.contype = 'p'
  GROUP BY con.conname
$$;

-- _CDB_free_column_name returns base, or base_N with the smallest N, not yet used in rel.
CREATE OR REPLACE FUNCTION cartodb._CDB_free_column_name(rel regclass, base text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  candidate text := base;
  n int := 0;
BEGIN
  WHILE EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = rel AND attname = candidate AND NOT attisdropped) LOOP
    candidate := base || '_' || n;
    n := n + 1;
  END LOOP;
  RETURN candidate;
END
$$;

-- _CDB_has_gist_index reports whether col of rel has a GiST index of its own.
CREATE OR REPLACE FUNCTION cartodb._CDB_has_gist_index(rel regclass, col name)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
  SELECT EXISTS (
    SELECT 1
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ic.relam
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = rel AND am.amname = 'gist' AND i.indnatts = 1 AND a.attname = col)
$$;

-- CDB_TableMetadata records when each table last changed: the track_updates trigger that
-- CDB_CartodbfyTable adds upserts the table's row after every INSERT, UPDATE, DELETE or TRUNCATE.
-- The Maps API's cache buster (a layergroup's last_updated) and the SQL API's cache headers read
-- it. Everyone may read it; only the trigger function, which runs as its owner, writes it.
CREATE TABLE IF NOT EXISTS cartodb.CDB_TableMetadata (
  tabname    regclass NOT NULL PRIMARY KEY,
  updated_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON cartodb.CDB_TableMetadata TO PUBLIC;

CREATE OR REPLACE FUNCTION cartodb.CDB_TableMetadata_Trigger()
RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  INSERT INTO cartodb.CDB_TableMetadata (tabname, updated_at) VALUES (TG_RELID, now())
  ON CONFLICT (tabname) DO UPDATE SET updated_at = EXCLUDED.updated_at;
  RETURN NULL;
END
$$;

-- CDB_CartodbfyTable turns a table into a CARTO table, in place, and returns it:
--   cartodb_id            bigint primary key, filled from a sequence (existing ids are kept when
--                         they are usable integers; otherwise the old column is renamed away);
--   the_geom              geometry in WGS 84 (EPSG:4326): added if missing, reprojected if in
--                         another SRID, parsed from text or geography, renamed away otherwise;
--   the_geom_webmercator  geometry(Geometry,3857), recomputed and kept in step by a trigger;
-- GiST indexes on both geometries, and the track_updates trigger (CDB_TableMetadata). Running it
-- again changes nothing. When destschema names another schema than the table's, the table moves
-- there.
CREATE OR REPLACE FUNCTION cartodb.CDB_CartodbfyTable(destschema text, reloid regclass)
RETURNS regclass
LANGUAGE plpgsql
AS $$
DECLARE
  nsp text;
  tbl text;
  qtable text;
  coltype text;
  colidentity "char";
  coldefault text;
  srid int;
  seq text;
  pk_name text;
  pk_cols name[];
  bad boolean;
  has_id boolean;
  renamed boolean := false;
BEGIN
  SELECT n.nspname, c.relname INTO nsp, tbl
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = reloid AND c.relkind IN ('r', 'p');
  IF NOT FOUND THEN
    RAISE EXCEPTION 'CDB_CartodbfyTable: % is not a table', reloid;
  END IF;
  IF destschema IS NOT NULL AND destschema <> nsp THEN
    EXECUTE format('ALTER TABLE %I.%I SET SCHEMA %I', nsp, tbl, destschema);
    nsp := destschema;
  END IF;
  qtable := format('%I.%I', nsp, tbl);

  ---- cartodb_id
  SELECT format_type(a.atttypid, NULL), a.attidentity, pg_get_expr(d.adbin, d.adrelid)
    INTO coltype, colidentity, coldefault
  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE a.attrelid = reloid AND a.attname = 'cartodb_id' AND NOT a.attisdropped;
  has_id := FOUND;
  IF has_id AND coltype NOT IN ('bigint', 'integer', 'smallint') THEN
    BEGIN
      EXECUTE format('ALTER TABLE %s ALTER COLUMN cartodb_id DROP DEFAULT, ALTER COLUMN cartodb_id TYPE bigint USING cartodb_id::text::bigint', qtable);
      coltype := 'bigint';
      coldefault := NULL;
    EXCEPTION WHEN others THEN
      coltype := NULL; -- not integers: rename it away below
    END;
  END IF;
  SELECT k.name, k.cols INTO pk_name, pk_cols FROM cartodb._CDB_primary_key(reloid) AS k;
  IF has_id AND coltype IS NOT NULL THEN
    -- Ids must be unique and positive to serve; otherwise keep them under another name. When
    -- cartodb_id is to become the primary key, making the key is the uniqueness check (below):
    -- a GROUP BY of every id first would cost as much again.
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE cartodb_id <= 0)', qtable) INTO bad;
    IF NOT bad AND pk_name IS NOT NULL AND pk_cols <> ARRAY['cartodb_id']::name[] THEN
      EXECUTE format('SELECT EXISTS (SELECT cartodb_id FROM %s WHERE cartodb_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1)', qtable) INTO bad;
    END IF;
    IF bad THEN
      coltype := NULL;
    END IF;
  END IF;
  <<ids>>
  LOOP
    BEGIN
      IF has_id AND coltype IS NULL THEN
        EXECUTE format('ALTER TABLE %s RENAME COLUMN cartodb_id TO %I', qtable, cartodb._CDB_free_column_name(reloid, 'cartodb_id_0'));
      END IF;
      IF NOT has_id OR coltype IS NULL THEN
        EXECUTE format('ALTER TABLE %s ADD COLUMN cartodb_id bigint', qtable);
        coltype := 'bigint';
        colidentity := '';
        coldefault := NULL;
      ELSIF coltype <> 'bigint' THEN
        EXECUTE format('ALTER TABLE %s ALTER COLUMN cartodb_id TYPE bigint', qtable);
      END IF;
      IF colidentity = '' AND (coldefault IS NULL OR coldefault NOT LIKE 'nextval(%') THEN
        seq := format('%I.%I', nsp, left(tbl, 50) || '_cartodb_id_seq');
        IF to_regclass(seq) IS NOT NULL THEN
          seq := format('%I.%I', nsp, left(tbl, 40) || '_cartodb_id_seq_' || substr(md5(random()::text), 1, 8));
        END IF;
        EXECUTE format('CREATE SEQUENCE %s OWNED BY %s.cartodb_id', seq, qtable);
        EXECUTE format('SELECT setval(%L, GREATEST(1, m), m IS NOT NULL) FROM (SELECT max(cartodb_id) AS m FROM %s) AS s', seq, qtable);
        EXECUTE format('ALTER TABLE %s ALTER COLUMN cartodb_id SET DEFAULT nextval(%L::regclass)', qtable, seq);
      END IF;
      EXECUTE format('UPDATE %s SET cartodb_id = DEFAULT WHERE cartodb_id IS NULL', qtable);
      EXECUTE format('ALTER TABLE %s ALTER COLUMN cartodb_id SET NOT NULL', qtable);

      -- Again: a renamed cartodb_id took its key along.
      SELECT k.name, k.cols INTO pk_name, pk_cols FROM cartodb._CDB_primary_key(reloid) AS k;
      IF pk_name IS NULL THEN
        EXECUTE format('ALTER TABLE %s ADD PRIMARY KEY (cartodb_id)', qtable);
      ELSIF pk_cols <> ARRAY['cartodb_id']::name[] THEN
        -- cartodb_id must be the primary key; the old key stays a unique constraint. When
        -- something depends on the old key (a foreign key), leave it and make cartodb_id unique
        -- instead.
        BEGIN
          EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', qtable, pk_name);
          EXECUTE format('ALTER TABLE %s ADD UNIQUE (%s)', qtable, (SELECT string_agg(quote_ident(c), ', ') FROM unnest(pk_cols) AS c));
          EXECUTE format('ALTER TABLE %s ADD PRIMARY KEY (cartodb_id)', qtable);
        EXCEPTION WHEN dependent_objects_still_exist THEN
          EXECUTE format('ALTER TABLE %s ADD UNIQUE (cartodb_id)', qtable);
        END;
      END IF;
      EXIT ids;
    EXCEPTION WHEN unique_violation THEN
      -- The ids repeat: all of the above is undone; they are kept under another name, and a
      -- new cartodb_id is made. A new column cannot repeat, so this happens once.
      IF renamed THEN
        RAISE;
      END IF;
      renamed := true;
      coltype := NULL;
    END;
  END LOOP;

  ---- the_geom
  SELECT format_type(a.atttypid, NULL), @postgis@.postgis_typmod_srid(a.atttypmod) INTO coltype, srid
  FROM pg_attribute a
  WHERE a.attrelid = reloid AND a.attname = 'the_geom' AND NOT a.attisdropped;
  IF NOT FOUND THEN
    EXECUTE format('ALTER TABLE %s ADD COLUMN the_geom @postgis@.geometry(Geometry,4326)', qtable);
  ELSIF coltype LIKE '%geometry' THEN
    IF srid IS DISTINCT FROM 4326 THEN
      EXECUTE format('ALTER TABLE %s ALTER COLUMN the_geom TYPE @postgis@.geometry(Geometry,4326) USING CASE WHEN @postgis@.ST_SRID(the_geom) = 0 THEN @postgis@.ST_SetSRID(the_geom, 4326) ELSE @postgis@.ST_Transform(the_geom, 4326) END', qtable);
    END IF;
  ELSIF coltype LIKE '%geography' THEN
    EXECUTE format('ALTER TABLE %s ALTER COLUMN the_geom TYPE @postgis@.geometry(Geometry,4326) USING @postgis@.ST_Transform(the_geom::@postgis@.geometry, 4326)', qtable);
  ELSE
    -- Text (WKT, EWKT, hex EWKB) parses; anything else, or text that does not, is renamed away.
    BEGIN
      EXECUTE format('ALTER TABLE %s ALTER COLUMN the_geom TYPE @postgis@.geometry(Geometry,4326) USING CASE WHEN @postgis@.ST_SRID(the_geom::text::@postgis@.geometry) = 0 THEN @postgis@.ST_SetSRID(the_geom::text::@postgis@.geometry, 4326) ELSE @postgis@.ST_Transform(the_geom::text::@postgis@.geometry, 4326) END', qtable);
    EXCEPTION WHEN others THEN
      EXECUTE format('ALTER TABLE %s RENAME COLUMN the_geom TO %I', qtable,
        cartodb._CDB_free_column_name(reloid, CASE WHEN coltype IN ('text', 'character varying', 'character') THEN 'the_geom_str' ELSE 'the_geom_0' END));
      EXECUTE format('ALTER TABLE %s ADD COLUMN the_geom @postgis@.geometry(Geometry,4326)', qtable);
    END;
  END IF;

  ---- the_geom_webmercator
  SELECT format_type(a.atttypid, a.atttypmod) INTO coltype
  FROM pg_attribute a
  WHERE a.attrelid = reloid AND a.attname = 'the_geom_webmercator' AND NOT a.attisdropped;
  IF NOT FOUND THEN
    EXECUTE format('ALTER TABLE %s ADD COLUMN the_geom_webmercator @postgis@.geometry(Geometry,3857)', qtable);
  ELSIF coltype NOT LIKE '%geometry(Geometry,3857)' THEN
    EXECUTE format('ALTER TABLE %s ALTER COLUMN the_geom_webmercator TYPE @postgis@.geometry(Geometry,3857) USING NULL', qtable);
  END IF;

  EXECUTE format('DROP TRIGGER IF EXISTS update_the_geom_webmercator_trigger ON %s', qtable);
  -- Only rows whose the_geom_webmercator is not already right are written: a table that comes
  -- with it computed (the Import API's) is read once instead of rewritten whole, and read by a
  -- count, which PostgreSQL's parallel workers share (an UPDATE has none).
  EXECUTE format('SELECT count(*) > 0 FROM %s WHERE the_geom_webmercator IS DISTINCT FROM cartodb.CDB_TransformToWebmercator(the_geom)', qtable) INTO bad;
  IF bad THEN
    EXECUTE format('UPDATE %s SET the_geom_webmercator = cartodb.CDB_TransformToWebmercator(the_geom) WHERE the_geom_webmercator IS DISTINCT FROM cartodb.CDB_TransformToWebmercator(the_geom)', qtable);
  END IF;
  EXECUTE format('CREATE TRIGGER update_the_geom_webmercator_trigger BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION cartodb._CDB_update_the_geom_webmercator()', qtable);
  -- track_updates keeps CDB_TableMetadata; cartodbfy's own writes above come before it, so a
  -- freshly cartodbfied table has no row yet, as on CARTO.
  EXECUTE format('DROP TRIGGER IF EXISTS track_updates ON %s', qtable);
  EXECUTE format('CREATE TRIGGER track_updates AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION cartodb.CDB_TableMetadata_Trigger()', qtable);

  IF NOT cartodb._CDB_has_gist_index(reloid, 'the_geom') THEN
    EXECUTE format('CREATE INDEX ON %s USING gist (the_geom)', qtable);
  END IF;
  IF NOT cartodb._CDB_has_gist_index(reloid, 'the_geom_webmercator') THEN
    EXECUTE format('CREATE INDEX ON %s USING gist (the_geom_webmercator)', qtable);
  END IF;
  RETURN reloid;
END
$$;

-- The one-argument form cartodbfies the table where it is.
CREATE OR REPLACE FUNCTION cartodb.CDB_CartodbfyTable(reloid regclass)
RETURNS regclass
LANGUAGE sql
AS $$ SELECT cartodb.CDB_CartodbfyTable(NULL::text, reloid) $$;

-- CDB_UserTables lists the account's tables (those in the schema first on the search_path):
-- 'public' ones the public role may read, 'private' ones it may not, or 'all' the caller or the
-- public role may read. Any other perm lists nothing.
CREATE OR REPLACE FUNCTION cartodb.CDB_UserTables(perm text DEFAULT 'all')
RETURNS SETOF name
LANGUAGE sql STABLE
AS $$
  SELECT c.relname
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND n.nspname = current_schema()
    AND c.relname NOT IN ('cdb_tablemetadata', 'cdb_analysis_catalog', 'cdb_conf', 'spatial_ref_sys')
    AND CASE perm
      WHEN 'public' THEN has_table_privilege('publicuser', c.oid, 'SELECT')
      WHEN 'private' THEN has_table_privilege(current_user, c.oid, 'SELECT')
                      AND NOT has_table_privilege('publicuser', c.oid, 'SELECT')
      WHEN 'all' THEN has_table_privilege(current_user, c.oid, 'SELECT')
                   OR has_table_privilege('publicuser', c.oid, 'SELECT')
      ELSE false
    END
  ORDER BY 1
$$;

-- CDB_QueryTablesText lists the tables a query reads or writes, as quoted schema.table names,
-- from its plan (the query is planned, not run). It takes one statement: the plan is opened as a
-- cursor, which PostgreSQL refuses for several statements (42P11) before running any, where
-- EXECUTE would run them all. The SQL API plans a public request's query as the owner with it.
CREATE OR REPLACE FUNCTION cartodb.CDB_QueryTablesText(query text)
RETURNS text[]
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  cur refcursor;
  plan json;
  tables text[];
BEGIN
  OPEN cur FOR EXECUTE 'EXPLAIN (FORMAT JSON, VERBOSE) ' || query;
  FETCH cur INTO plan;
  CLOSE cur;
  SELECT coalesce(array_agg(name ORDER BY name), '{}') INTO tables
  FROM (
    SELECT DISTINCT format('%I.%I', node->>'Schema', node->>'Relation Name') AS name
    FROM jsonb_path_query(plan::jsonb, 'strict $.**') AS node
    WHERE jsonb_typeof(node) = 'object' AND node ? 'Relation Name'
  ) AS found;
  RETURN tables;
END
$$;

GRANT USAGE ON SCHEMA cartodb TO PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA cartodb TO PUBLIC;
