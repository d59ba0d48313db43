package registry

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsUUID reports whether s has the shape of a visualization id.
func IsUUID(s string) bool { return uuidRE.MatchString(s) }

// Get returns the user's visualization with id idOrName, or else named idOrName (optionally
// "schema.name" with the user's own schema, as CARTO accepts), among types (all when empty). A
// dataset's name matches before a map's.
func (r *Registry) Get(ctx context.Context, user, idOrName string, types ...string) (Visualization, error) {
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
		v, err = get(ctx, tx, a, idOrName, types)
		return err
	})
	return v, err
}

func get(ctx context.Context, q Querier, a Account, idOrName string, types []string) (Visualization, error) {
	if len(types) == 0 {
		types = []string{TypeTable, TypeDerived}
	}
	if IsUUID(idOrName) {
		v, err := getByID(ctx, q, a.Name, idOrName)
		if err == nil && !contains(types, v.Type) {
			err = fmt.Errorf("registry: %q: %w", idOrName, ErrNotFound)
		}
		return v, err
	}
	name := idOrName
	if s, n, ok := strings.Cut(idOrName, "."); ok && s == a.Schema {
		name = n
	}
	v, err := scanViz(q.QueryRow(ctx, `SELECT `+vizColumns+` FROM `+vizFrom+`
WHERE v.user_name = $1 AND v.name = $2 AND v.type = ANY ($3) ORDER BY v.type = 'table' DESC LIMIT 1`,
		a.Name, name, types))
	if errors.Is(err, pgx.ErrNoRows) {
		return v, fmt.Errorf("registry: %q: %w", idOrName, ErrNotFound)
	}
	return v, err
}

func getByID(ctx context.Context, q Querier, user, id string) (Visualization, error) {
	v, err := scanViz(q.QueryRow(ctx, `SELECT `+vizColumns+` FROM `+vizFrom+` WHERE v.user_name = $1 AND v.id = $2::uuid`, user, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return v, fmt.Errorf("registry: %q: %w", id, ErrNotFound)
	}
	return v, err
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// Filter selects and orders visualizations, as /api/v1/viz's parameters do.
type Filter struct {
	Types   []string // TypeTable, TypeDerived; empty means both
	Privacy []string // lower-case privacy values; empty means any
	// Q matches the name, description or a tag, case-insensitively (CARTO's full-text search
	// reduced to substrings).
	Q string
	// Tags keeps visualizations carrying any of them.
	Tags []string
	// Order is one of the Orders keys; empty means updated_at.
	Order string
	// Asc orders ascending; CARTO's default is descending.
	Asc bool
	// Page counts from 1; PerPage is the page size. PerPage 0 means all.
	Page, PerPage int
}

// Orders are the orderings List accepts (CARTO's), each as the SQL it sorts by. Those CARTO
// measures and cartolocal does not (map views, likes) are equal for all, so the tie-breaker orders.
var Orders = map[string]string{
	"name":                     "v.name",
	"updated_at":               "v.updated_at",
	"created_at":               "v.created_at",
	"privacy":                  "v.privacy",
	"size":                     "coalesce(pg_total_relation_size(c.oid), 0)",
	"estimated_row_count":      "coalesce(c.reltuples, 0)",
	"mapviews":                 "NULL::int",
	"favorited":                "NULL::int",
	"likes":                    "NULL::int",
	"dependent_visualizations": "(SELECT count(*) FROM cartolocal.visualizations d WHERE d.user_name = v.user_name AND d.type = 'derived' AND v.type = 'table' AND v.name = ANY (d.tables))",
}

// List returns one page of the user's visualizations that pass f, and how many pass f in all.
// Ties are broken by id, so that paging through a list that does not change returns each
// visualization exactly once.
func (r *Registry) List(ctx context.Context, user string, f Filter) ([]Visualization, int, error) {
	a, err := r.account(user)
	if err != nil {
		return nil, 0, err
	}
	order := "updated_at"
	if f.Order != "" {
		order = f.Order
	}
	col, ok := Orders[order]
	if !ok {
		return nil, 0, fmt.Errorf("registry: unknown order %q", f.Order)
	}
	dir := "DESC"
	if f.Asc {
		dir = "ASC"
	}
	types := f.Types
	if len(types) == 0 {
		types = []string{TypeTable, TypeDerived}
	}
	where := `v.user_name = $1 AND v.type = ANY ($2)`
	args := []any{a.Name, types}
	if len(f.Privacy) > 0 {
		args = append(args, f.Privacy)
		where += ` AND v.privacy = ANY ($` + strconv.Itoa(len(args)) + `)`
	}
	if f.Q != "" {
		args = append(args, "%"+escapeLike(f.Q)+"%")
		n := strconv.Itoa(len(args))
		where += ` AND (v.name ILIKE $` + n + ` OR v.description ILIKE $` + n + ` OR EXISTS (SELECT 1 FROM unnest(v.tags) t WHERE t ILIKE $` + n + `))`
	}
	if len(f.Tags) > 0 {
		args = append(args, f.Tags)
		where += ` AND v.tags && $` + strconv.Itoa(len(args))
	}
	limit := ""
	if f.PerPage > 0 {
		page := max(f.Page, 1)
		limit = fmt.Sprintf(" LIMIT %d OFFSET %d", f.PerPage, (page-1)*f.PerPage)
	}
	var out []Visualization
	total := 0
	err = r.inTx(ctx, nil, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, a.Name); err != nil {
			return err
		}
		if err := sync(ctx, tx, a); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+vizFrom+` WHERE `+where, args...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+vizColumns+` FROM `+vizFrom+` WHERE `+where+
			` ORDER BY `+col+` `+dir+`, v.id `+dir+limit, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanViz(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("registry: list: %w", err)
	}
	return out, total, nil
}

// Dependents returns the maps that use a dataset's table.
func (r *Registry) Dependents(ctx context.Context, user, table string) ([]Visualization, error) {
	rows, err := r.admin.Query(ctx, `SELECT `+vizColumns+` FROM `+vizFrom+`
WHERE v.user_name = $1 AND v.type = 'derived' AND $2 = ANY (v.tables) ORDER BY v.updated_at DESC, v.id`, user, table)
	if err != nil {
		return nil, fmt.Errorf("registry: dependents: %w", err)
	}
	defer rows.Close()
	var out []Visualization
	for rows.Next() {
		v, err := scanViz(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
