-- The table's sequence, trigger and indexes go with it.
DROP TABLE places;
