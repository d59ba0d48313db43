package account

import (
	"context"
	"crypto/sha1"
	"fmt"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/internal/registry"
	"github.com/gocarto/carto/cartolocal/internal/users"
)

// vizJSON is VisualizationPresenter#to_poro's owner view, in its key order.
type vizJSON struct {
	ID                           string         `json:"id"`
	Name                         string         `json:"name"`
	DisplayName                  *string        `json:"display_name"`
	MapID                        string         `json:"map_id"`
	ActiveLayerID                *string        `json:"active_layer_id"`
	Type                         string         `json:"type"`
	Tags                         []string       `json:"tags"`
	Description                  string         `json:"description"`
	Privacy                      string         `json:"privacy"`
	CreatedAt                    railsTime      `json:"created_at"`
	UpdatedAt                    railsTime      `json:"updated_at"`
	Locked                       bool           `json:"locked"`
	Source                       *string        `json:"source"`
	Title                        *string        `json:"title"`
	License                      *string        `json:"license"`
	Attributions                 *string        `json:"attributions"`
	Kind                         string         `json:"kind"`
	ExternalSource               *string        `json:"external_source"`
	URL                          string         `json:"url"`
	Version                      int            `json:"version"`
	PrevID                       *string        `json:"prev_id"`
	NextID                       *string        `json:"next_id"`
	ParentID                     *string        `json:"parent_id"`
	TransitionOptions            map[string]any `json:"transition_options"`
	ActiveChild                  *string        `json:"active_child"`
	Children                     []any          `json:"children"`
	RelatedTables                []tableJSON    `json:"related_tables"`
	Synchronization              *struct{}      `json:"synchronization"`
	UsesBuilderFeatures          bool           `json:"uses_builder_features"`
	DependentVisualizationsCount *int           `json:"dependent_visualizations_count,omitzero"`
	DependentVisualizations      *[]depJSON     `json:"dependent_visualizations,omitzero"`
	Liked                        bool           `json:"liked"`
	Likes                        int            `json:"likes"`
	Permission                   permissionJSON `json:"permission"`
	Stats                        map[string]int `json:"stats"`
	AuthTokens                   []string       `json:"auth_tokens"`
	Table                        *tableJSON     `json:"table,omitzero"`
	User                         *userSummary   `json:"user,omitzero"`
}

// tableJSON is the table part of a dataset (TablePresenter's summary).
type tableJSON struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	GeometryTypes   []string       `json:"geometry_types"`
	Privacy         string         `json:"privacy"`
	UpdatedAt       railsTime      `json:"updated_at"`
	Synchronization *struct{}      `json:"synchronization"`
	Size            int64          `json:"size"`
	RowCount        int64          `json:"row_count"`
	Permission      permissionJSON `json:"permission"`
}

// depJSON summarizes a dependent map.
type depJSON struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	UpdatedAt  railsTime      `json:"updated_at"`
	Permission permissionJSON `json:"permission"`
	AuthTokens []string       `json:"auth_tokens"`
}

type permissionJSON struct {
	ID        string      `json:"id"`
	Owner     userSummary `json:"owner"`
	Entity    entityJSON  `json:"entity"`
	ACL       []any       `json:"acl"`
	CreatedAt railsTime   `json:"created_at"`
	UpdatedAt railsTime   `json:"updated_at"`
}

type entityJSON struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// userSummary is a user as a permission's owner (UserPresenter#to_poro, public part).
type userSummary struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	AvatarURL string `json:"avatar_url"`
	BaseURL   string `json:"base_url"`
	Viewer    bool   `json:"viewer"`
	OrgAdmin  bool   `json:"org_admin"`
	OrgUser   bool   `json:"org_user"`
}

// stableUUID derives a UUID from parts, for the ids CARTO keeps and cartolocal need not store
// (a map's, a permission's, a user's): the same parts give the same id across restarts.
func stableUUID(parts ...string) string {
	h := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	h[6] = h[6]&0x0f | 0x50 // version 5
	h[8] = h[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// UserID is the id cartolocal gives an account.
func UserID(user string) string { return stableUUID("user", user) }

// baseURL is the account's URL as the request reached it: http(s)://HOST/user/NAME.
func baseURL(r *http.Request, user string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/user/" + user
}

func (s *Server) owner(r *http.Request, u *users.User) userSummary {
	org, _ := s.orgs.OfUser(r.Context(), u.Name)
	return userSummary{
		ID: UserID(u.Name), Username: u.Name, BaseURL: baseURL(r, u.Name),
		AvatarURL: "//cartodb-libs.global.ssl.fastly.net/cartodbui/assets/unversioned/images/avatars/avatar_ghost_blue.png",
		OrgUser:   org != nil, OrgAdmin: org != nil && org.Admin == u.Name,
	}
}

func permission(owner userSummary, v registry.Visualization) permissionJSON {
	return permissionJSON{
		ID: stableUUID("permission", v.ID), Owner: owner, Entity: entityJSON{ID: v.ID, Type: "vis"},
		ACL: []any{}, CreatedAt: railsTime(v.CreatedAt), UpdatedAt: railsTime(v.UpdatedAt),
	}
}

// presentOptions are the presenter flags of the request.
type presentOptions struct {
	dependents int  // with_dependent_visualizations=N
	fetchUser  bool // fetch_user=true
}

// present renders v as its owner sees it.
func (s *Server) present(ctx context.Context, r *http.Request, u *users.User, v registry.Visualization, o presentOptions) (vizJSON, error) {
	owner := s.owner(r, u)
	out := vizJSON{
		ID: v.ID, Name: v.Name, MapID: stableUUID("map", v.ID), Type: v.Type, Tags: v.Tags,
		Description: v.Description, Privacy: strings.ToUpper(v.Privacy),
		CreatedAt: railsTime(v.CreatedAt), UpdatedAt: railsTime(v.UpdatedAt), Kind: "geom",
		Version: 3, TransitionOptions: map[string]any{}, Children: []any{}, RelatedTables: []tableJSON{},
		UsesBuilderFeatures: v.Type == registry.TypeDerived, Permission: permission(owner, v),
		Stats: map[string]int{}, AuthTokens: []string{},
	}
	if v.Type == registry.TypeTable {
		out.URL = owner.BaseURL + "/dataset/" + v.Name
	} else {
		out.URL = owner.BaseURL + "/builder/" + v.ID
	}
	if o.fetchUser {
		out.User = &owner
	}
	for _, t := range v.Tables {
		ds, err := s.d.Registry.TableByName(ctx, u.Name, t)
		if err != nil {
			continue // dropped meanwhile: the registry forgets it on its next sync
		}
		tj, err := s.tableSummary(ctx, u, owner, ds)
		if err != nil {
			return out, err
		}
		out.RelatedTables = append(out.RelatedTables, tj)
		if v.Type == registry.TypeTable {
			out.Table = &tj
		}
	}
	if o.dependents > 0 && v.Type == registry.TypeTable {
		deps, err := s.d.Registry.Dependents(ctx, u.Name, v.Table)
		if err != nil {
			return out, err
		}
		n := len(deps)
		out.DependentVisualizationsCount = &n
		list := []depJSON{}
		for i, d := range deps {
			if i == o.dependents {
				break
			}
			list = append(list, depJSON{ID: d.ID, Name: d.Name, UpdatedAt: railsTime(d.UpdatedAt), Permission: permission(owner, d), AuthTokens: []string{}})
		}
		out.DependentVisualizations = &list
	}
	return out, nil
}

// tableSummary measures a dataset's table: its size, rows and geometry types.
func (s *Server) tableSummary(ctx context.Context, u *users.User, owner userSummary, ds registry.Visualization) (tableJSON, error) {
	st, err := s.stats(ctx, u.Schema, ds.Table)
	if err != nil {
		return tableJSON{}, err
	}
	return tableJSON{
		ID: ds.ID, Name: ds.Table, GeometryTypes: st.geomTypes, Privacy: strings.ToUpper(ds.Privacy),
		UpdatedAt: railsTime(ds.UpdatedAt), Size: st.size, RowCount: st.rows, Permission: permission(owner, ds),
	}, nil
}

type tableStats struct {
	size, rows int64
	geomTypes  []string
}

// stats measures a table as CARTO's table presenter does: total relation size, row count, and
// the geometry types of a sample of its geometries.
func (s *Server) stats(ctx context.Context, schema, table string) (tableStats, error) {
	st := tableStats{geomTypes: []string{}}
	qt := pgx.Identifier{schema, table}.Sanitize()
	err := s.d.Admin.QueryRow(ctx, "SELECT pg_total_relation_size($1::regclass), (SELECT count(*) FROM "+qt+")", qt).Scan(&st.size, &st.rows)
	if err != nil {
		return st, fmt.Errorf("account: table %s: %w", qt, err)
	}
	var hasGeom bool
	if err := s.d.Admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'the_geom' AND NOT attisdropped)", qt).Scan(&hasGeom); err != nil {
		return st, err
	}
	if hasGeom {
		err = s.d.Admin.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT ST_GeometryType(the_geom) ORDER BY ST_GeometryType(the_geom)), '{}')
FROM (SELECT the_geom FROM `+qt+` WHERE the_geom IS NOT NULL LIMIT 10) g`).Scan(&st.geomTypes)
		if err != nil {
			return st, fmt.Errorf("account: geometry types of %s: %w", qt, err)
		}
	}
	return st, nil
}
