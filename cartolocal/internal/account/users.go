package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/registry"
	"github.com/gocarto/carto/cartolocal/internal/users"
)

// quotaBytes is the storage quota cartolocal reports: it enforces none, so it reports 1 TiB, far
// beyond what a local database holds, so that clients computing what is left never see a full
// account.
const quotaBytes int64 = 1 << 40

// userJSON is a user as UserPresenter writes it: #data for the non-organization endpoint and
// #to_eumapi_poro for the organization one share these keys (the EUMAPI has no id).
type userJSON struct {
	ID                       string         `json:"id,omitzero"`
	Name                     *string        `json:"name"`
	LastName                 *string        `json:"last_name"`
	Username                 string         `json:"username"`
	Email                    string         `json:"email"`
	AvatarURL                string         `json:"avatar_url"`
	Website                  *string        `json:"website"`
	Description              *string        `json:"description"`
	Location                 *string        `json:"location"`
	TwitterUsername          *string        `json:"twitter_username"`
	DisqusShortname          *string        `json:"disqus_shortname"`
	AvailableForHire         bool           `json:"available_for_hire"`
	BaseURL                  string         `json:"base_url"`
	GoogleMapsQueryString    *string        `json:"google_maps_query_string"`
	AccountType              string         `json:"account_type"`
	TableQuota               *int           `json:"table_quota"`
	QuotaInBytes             int64          `json:"quota_in_bytes"`
	DBSizeInBytes            int64          `json:"db_size_in_bytes"`
	RemainingByteQuota       int64          `json:"remaining_byte_quota"`
	TableCount               int            `json:"table_count"`
	Viewer                   bool           `json:"viewer"`
	RoleDisplay              string         `json:"role_display"`
	OrgAdmin                 bool           `json:"org_admin"`
	OrgUser                  bool           `json:"org_user"`
	PublicVisualizationCount int            `json:"public_visualization_count"`
	AllVisualizationCount    int            `json:"all_visualization_count"`
	RemoveLogo               bool           `json:"remove_logo"`
	SoftGeocodingLimit       bool           `json:"soft_geocoding_limit"`
	APIKey                   string         `json:"api_key"`
	FeatureFlags             []string       `json:"feature_flags"`
	Actions                  map[string]any `json:"actions,omitzero"`
	Limits                   map[string]any `json:"limits,omitzero"`
}

// handleUser serves GET /api/v1/users/:id: the URL's user (the id is ignored, as Rails ignores
// it), to its master key.
func (s *Server) handleUser(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w)
		return
	}
	q, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !q.master() {
		head(w, http.StatusUnauthorized)
		return
	}
	uj, err := s.userData(r.Context(), r, q.who.User)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	uj.ID = UserID(q.who.User.Name)
	uj.Actions = map[string]any{"private_tables": true, "private_maps": true, "remove_logo": true, "engine": true}
	uj.Limits = map[string]any{}
	writeJSON(w, http.StatusOK, uj)
}

// handleOrgUser serves GET /api/v1/organization/:org/users/:username to the organization's
// admin (its master key, under its own URL): any other caller, and an unknown organization, get
// 401 {}; a user not in the organization 404.
func (s *Server) handleOrgUser(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w)
		return
	}
	q, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	orgName, username := httpapi.PathValue(r, "org"), httpapi.PathValue(r, "username")
	org, err := s.orgs.Get(r.Context(), orgName)
	if errors.Is(err, ErrNoOrg) || err == nil && (!q.master() || org.Admin != q.who.User.Name) {
		writeJSON(w, http.StatusUnauthorized, struct{}{})
		return
	}
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	member := false
	for _, m := range org.Members {
		member = member || m == username
	}
	u, exists := s.d.Users.Get(username)
	if !member || !exists {
		writeJSON(w, http.StatusNotFound, fmt.Sprintf("No user with username '%s' in '%s'", username, orgName))
		return
	}
	uj, err := s.userData(r.Context(), r, u)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, uj)
}

// userData measures an account: its datasets, maps and database size.
func (s *Server) userData(ctx context.Context, r *http.Request, u *users.User) (userJSON, error) {
	_, tableCount, err := s.d.Registry.List(ctx, u.Name, registry.Filter{Types: []string{registry.TypeTable}, PerPage: 1})
	if err != nil {
		return userJSON{}, err
	}
	_, maps, err := s.d.Registry.List(ctx, u.Name, registry.Filter{Types: []string{registry.TypeDerived}, PerPage: 1})
	if err != nil {
		return userJSON{}, err
	}
	_, publicMaps, err := s.d.Registry.List(ctx, u.Name, registry.Filter{Types: []string{registry.TypeDerived}, Privacy: []string{registry.PrivacyPublic}, PerPage: 1})
	if err != nil {
		return userJSON{}, err
	}
	var size int64
	err = s.d.Admin.QueryRow(ctx, `
SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::int8 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'm')`, u.Schema).Scan(&size)
	if err != nil {
		return userJSON{}, fmt.Errorf("account: size of %q: %w", u.Name, err)
	}
	owner := s.owner(r, u)
	role := "builder"
	if owner.OrgAdmin {
		role = "admin"
	}
	return userJSON{
		Username: u.Name, Email: u.Name + "@cartolocal.invalid", AvatarURL: owner.AvatarURL, BaseURL: owner.BaseURL,
		AccountType: "cartolocal", QuotaInBytes: quotaBytes, DBSizeInBytes: size, RemainingByteQuota: quotaBytes - size,
		TableCount: tableCount, RoleDisplay: role, OrgAdmin: owner.OrgAdmin, OrgUser: owner.OrgUser,
		PublicVisualizationCount: publicMaps, AllVisualizationCount: maps, APIKey: u.MasterKey, FeatureFlags: []string{},
	}, nil
}
