package maps

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// store persists layergroups and named maps in cartolocal's own schema, as Windshaft keeps them
// in Redis.
type store struct {
	admin *pgxpool.Pool
}

func (st *store) install(ctx context.Context) error {
	_, err := st.admin.Exec(ctx, `
CREATE SCHEMA IF NOT EXISTS cartolocal;
CREATE TABLE IF NOT EXISTS cartolocal.map_layergroups (
	username   text NOT NULL,
	token      text NOT NULL,      -- md5, or user@hash@md5 for a named map's instance
	config     text NOT NULL,      -- the MapConfig the token hashes
	template   text,               -- the named map it instantiates, if any
	tables     text[] NOT NULL DEFAULT '{}', -- schema.table the layers read, for cache headers
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (username, token)
);
CREATE TABLE IF NOT EXISTS cartolocal.map_templates (
	username   text NOT NULL,
	name       text NOT NULL,
	body       text NOT NULL,
	seq        bigserial,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (username, name)
);`)
	return err
}

// saveLayergroup records a layergroup; the same token again (the same config) is a no-op.
func (st *store) saveLayergroup(ctx context.Context, user, token, config, tmpl string, tables []string) error {
	var t *string
	if tmpl != "" {
		t = &tmpl
	}
	if tables == nil {
		tables = []string{}
	}
	_, err := st.admin.Exec(ctx, `INSERT INTO cartolocal.map_layergroups (username, token, config, template, tables)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username, token) DO UPDATE SET tables = EXCLUDED.tables`, user, token, config, t, tables)
	return err
}

// loadLayergroup returns a stored layergroup's config, template and tables; ok is false if none.
func (st *store) loadLayergroup(ctx context.Context, user, token string) (config, tmpl string, tables []string, ok bool, err error) {
	var t *string
	err = st.admin.QueryRow(ctx, `SELECT config, template, tables FROM cartolocal.map_layergroups WHERE username = $1 AND token = $2`,
		user, token).Scan(&config, &t, &tables)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", nil, false, nil
	}
	if err != nil {
		return "", "", nil, false, err
	}
	if t != nil {
		tmpl = *t
	}
	return config, tmpl, tables, true, nil
}

var errDuplicate = errors.New("duplicate template")

func (st *store) createTemplate(ctx context.Context, user, name string, body []byte) error {
	_, err := st.admin.Exec(ctx, `INSERT INTO cartolocal.map_templates (username, name, body) VALUES ($1, $2, $3)`, user, name, string(body))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return errDuplicate
	}
	return err
}

// updateTemplate replaces a template; ok is false if there is none of that name.
func (st *store) updateTemplate(ctx context.Context, user, name string, body []byte) (bool, error) {
	tag, err := st.admin.Exec(ctx, `UPDATE cartolocal.map_templates SET body = $3, updated_at = now() WHERE username = $1 AND name = $2`,
		user, name, string(body))
	return tag.RowsAffected() == 1, err
}

func (st *store) deleteTemplate(ctx context.Context, user, name string) (bool, error) {
	tag, err := st.admin.Exec(ctx, `DELETE FROM cartolocal.map_templates WHERE username = $1 AND name = $2`, user, name)
	return tag.RowsAffected() == 1, err
}

// getTemplate returns a template's stored body; nil if there is none.
func (st *store) getTemplate(ctx context.Context, user, name string) ([]byte, error) {
	var body string
	err := st.admin.QueryRow(ctx, `SELECT body FROM cartolocal.map_templates WHERE username = $1 AND name = $2`, user, name).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []byte(body), nil
}

// listTemplates returns the account's template names in creation order.
func (st *store) listTemplates(ctx context.Context, user string) ([]string, error) {
	rows, err := st.admin.Query(ctx, `SELECT name FROM cartolocal.map_templates WHERE username = $1 ORDER BY seq`, user)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if names == nil {
		names = []string{}
	}
	return names, err
}
