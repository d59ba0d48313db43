DELETE FROM places
WHERE name IN ('Madrid', 'Barcelona', 'Valencia', 'Sevilla', 'Lisboa', 'Porto', 'Paris', 'Lyon',
               'New York', 'Washington', 'Teide', 'Mont Blanc', 'Null Island');
