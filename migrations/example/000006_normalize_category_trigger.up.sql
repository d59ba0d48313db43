-- Keep categories lower case and trimmed, whoever writes them: a PL/pgSQL trigger function and its
-- trigger, then one pass over the rows already there.
CREATE OR REPLACE FUNCTION places_normalize_category() RETURNS trigger
LANGUAGE plpgsql
AS $body$
BEGIN
  NEW.category := lower(btrim(NEW.category));
  IF NEW.category = '' THEN
    NEW.category := 'city';
  END IF;
  RETURN NEW;
END
$body$;

CREATE TRIGGER places_normalize_category
BEFORE INSERT OR UPDATE OF category ON places
FOR EACH ROW EXECUTE FUNCTION places_normalize_category();

UPDATE places SET category = category WHERE category IS DISTINCT FROM lower(btrim(category));
