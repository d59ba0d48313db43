package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Patch is a change to a visualization; nil fields stay as they are.
type Patch struct {
	// Name renames a map, or a dataset and its table.
	Name        *string
	Privacy     *string // lower- or upper-case privacy value
	Description *string
	Tags        *[]string
}

// Update applies p to the user's visualization id (or name) and returns it as it now is.
func (r *Registry) Update(ctx context.Context, user, idOrName string, p Patch) (Visualization, error) {
	a, err := r.account(user)
	if err != nil {
		return Visualization{}, err
	}
	var v Visualization
	err = r.inTx(ctx, nil, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, a.Name); err != nil {
			return err
		}
		if err := sync(ctx, tx, a); err != nil {
			return err
		}
		v, err = get(ctx, tx, a, idOrName, nil)
		if err != nil {
			return err
		}
		if p.Privacy != nil {
			priv := strings.ToLower(*p.Privacy)
			if !ValidPrivacy(priv) {
				return ErrBadPrivacy
			}
			if v.Type == TypeTable {
				if err := grantPrivacy(ctx, tx, a, v.Table, priv); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, "UPDATE cartolocal.visualizations SET privacy = $2, updated_at = now() WHERE id = $1", v.ID, priv); err != nil {
				return err
			}
		}
		if p.Description != nil {
			if _, err := tx.Exec(ctx, "UPDATE cartolocal.visualizations SET description = $2, updated_at = now() WHERE id = $1", v.ID, *p.Description); err != nil {
				return err
			}
		}
		if p.Tags != nil {
			tags := *p.Tags
			if tags == nil {
				tags = []string{}
			}
			if _, err := tx.Exec(ctx, "UPDATE cartolocal.visualizations SET tags = $2, updated_at = now() WHERE id = $1", v.ID, tags); err != nil {
				return err
			}
		}
		if p.Name != nil && *p.Name != v.Name {
			if err := rename(ctx, tx, a, v, *p.Name); err != nil {
				return err
			}
		}
		v, err = getByID(ctx, tx, a.Name, v.ID)
		return err
	})
	if err != nil {
		return Visualization{}, fmt.Errorf("registry: update %q: %w", idOrName, err)
	}
	return v, nil
}

func rename(ctx context.Context, tx pgx.Tx, a Account, v Visualization, to string) error {
	if v.Type == TypeTable {
		return renameTable(ctx, tx, a, v, to)
	}
	if strings.TrimSpace(to) == "" {
		return fmt.Errorf("%w: a map needs a name", ErrInvalidName)
	}
	_, err := tx.Exec(ctx, "UPDATE cartolocal.visualizations SET name = $2, updated_at = now() WHERE id = $1", v.ID, to)
	if isUniqueViolation(err) {
		return fmt.Errorf("%w: %q", ErrNameTaken, to)
	}
	return err
}

// Delete removes the user's visualization id (or name). A dataset's delete drops its table and
// the maps that used only it; the maps that also use other tables lose it from their table list.
func (r *Registry) Delete(ctx context.Context, user, idOrName string) error {
	a, err := r.account(user)
	if err != nil {
		return err
	}
	err = r.inTx(ctx, nil, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, a.Name); err != nil {
			return err
		}
		if err := sync(ctx, tx, a); err != nil {
			return err
		}
		v, err := get(ctx, tx, a, idOrName, nil)
		if err != nil {
			return err
		}
		if v.Type == TypeTable {
			if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{a.Schema, v.Table}.Sanitize()); err != nil {
				return err
			}
			if err := forgetTable(ctx, tx, a, v.Table); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, "DELETE FROM cartolocal.visualizations WHERE id = $1", v.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("registry: delete %q: %w", idOrName, err)
	}
	return nil
}

// MapSpec describes a map to create.
type MapSpec struct {
	// Name is the map's name; empty means "Untitled Map". A name already taken gets " 1", " 2",
	// ... appended, as CARTO does.
	Name        string
	Description string
	Tags        []string
	Privacy     string // empty means public, CARTO's default for a new map
	// Tables are the datasets the map shows, by table name or dataset id; at least one.
	Tables []string
	// Definition is the map's MapConfig (JSON). Empty means one layer per table, drawing all of
	// its rows (DefaultDefinition).
	Definition []byte
	// Imported names the map as CARTO names a map an import brings (a .carto file): a taken
	// name gets " Import", then " Import 2", " Import 3", ...
	// (VisualizationsExportPersistenceService#ensure_unique_name).
	Imported bool
}

// CreateMap creates a map (a derived visualization) on the user's datasets.
func (r *Registry) CreateMap(ctx context.Context, user string, spec MapSpec) (Visualization, error) {
	a, err := r.account(user)
	if err != nil {
		return Visualization{}, err
	}
	priv := strings.ToLower(spec.Privacy)
	if priv == "" {
		priv = PrivacyPublic
	}
	if !ValidPrivacy(priv) {
		return Visualization{}, ErrBadPrivacy
	}
	if len(spec.Tables) == 0 {
		return Visualization{}, fmt.Errorf("registry: create map: %w: a map needs at least one table", ErrNoTable)
	}
	if spec.Definition != nil && !json.Valid(spec.Definition) {
		return Visualization{}, errors.New("registry: create map: the definition is not JSON")
	}
	name := strings.TrimSpace(spec.Name)
	if name == "" {
		name = "Untitled Map"
	}
	tags := spec.Tags
	if tags == nil {
		tags = []string{}
	}
	var v Visualization
	err = r.inTx(ctx, nil, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, a.Name); err != nil {
			return err
		}
		if err := sync(ctx, tx, a); err != nil {
			return err
		}
		var tables []string
		for _, t := range spec.Tables {
			ds, err := get(ctx, tx, a, t, []string{TypeTable})
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("%w: %q", ErrNoTable, t)
			}
			if err != nil {
				return err
			}
			if !contains(tables, ds.Table) {
				tables = append(tables, ds.Table)
			}
		}
		def := spec.Definition
		if def == nil {
			def = DefaultDefinition(a.Schema, tables)
		}
		var taken []string
		rows, err := tx.Query(ctx, `SELECT name FROM cartolocal.visualizations WHERE user_name = $1 AND type = 'derived' AND (name = $2 OR name LIKE $3)`,
			a.Name, name, escapeLike(name)+" %")
		if err != nil {
			return err
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			taken = append(taken, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		final := name
		for i := 1; contains(taken, final); i++ {
			switch {
			case !spec.Imported:
				final = fmt.Sprintf("%s %d", name, i)
			case i == 1:
				final = name + " Import"
			default:
				final = fmt.Sprintf("%s Import %d", name, i)
			}
		}
		var id string
		err = tx.QueryRow(ctx, `
INSERT INTO cartolocal.visualizations (user_name, name, type, privacy, description, tags, tables, definition)
VALUES ($1, $2, 'derived', $3, $4, $5, $6, $7::jsonb) RETURNING id::text`,
			a.Name, final, priv, spec.Description, tags, tables, string(def)).Scan(&id)
		if err != nil {
			return err
		}
		v, err = getByID(ctx, tx, a.Name, id)
		return err
	})
	if err != nil {
		return Visualization{}, fmt.Errorf("registry: create map: %w", err)
	}
	return v, nil
}

// DefaultDefinition is the MapConfig of a map made from tables: one layer per table drawing all
// its rows, in Windshaft's MapConfig 1.3.0. Tables are named "schema"."table", which is also how
// a rename finds them in the definition.
func DefaultDefinition(schema string, tables []string) []byte {
	layers := make([]Layer, len(tables))
	for i, t := range tables {
		layers[i] = Layer{SQL: "SELECT * FROM " + pgx.Identifier{schema, t}.Sanitize()}
	}
	return Definition(layers)
}

// Layer is one layer of a map's definition: its query and its CartoCSS.
type Layer struct {
	SQL             string
	CartoCSS        string // empty: CARTO's default style, orange for every geometry type
	CartoCSSVersion string // empty: 2.1.1
}

// Definition is the MapConfig 1.3.0 of a map of mapnik layers, the shape every map the registry
// makes has (from tables, or from a .carto file's layers).
func Definition(layers []Layer) []byte {
	type options struct {
		SQL             string `json:"sql"`
		CartoCSS        string `json:"cartocss"`
		CartoCSSVersion string `json:"cartocss_version"`
	}
	type layer struct {
		Type    string  `json:"type"`
		Options options `json:"options"`
	}
	cfg := struct {
		Version string  `json:"version"`
		Layers  []layer `json:"layers"`
	}{Version: "1.3.0", Layers: []layer{}}
	for _, l := range layers {
		o := options(l)
		if o.CartoCSS == "" {
			o.CartoCSS = "#layer { marker-fill: #FF6600; line-color: #FF6600; polygon-fill: #FF6600; polygon-opacity: 0.7; }"
		}
		if o.CartoCSSVersion == "" {
			o.CartoCSSVersion = "2.1.1"
		}
		cfg.Layers = append(cfg.Layers, layer{Type: "mapnik", Options: o})
	}
	b, _ := json.Marshal(cfg) // plain strings: cannot fail
	return b
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
