package account

import (
	"context"
	"net/http"

	"github.com/gocarto/carto"
)

// User is a CARTO user as the users APIs show it.
type User struct {
	ID                       string `json:"id"`
	Username                 string `json:"username"`
	Email                    string `json:"email"`
	Name                     string `json:"name"`
	LastName                 string `json:"last_name"`
	AvatarURL                string `json:"avatar_url"`
	BaseURL                  string `json:"base_url"`
	AccountType              string `json:"account_type"`
	QuotaInBytes             int64  `json:"quota_in_bytes"`
	DBSizeInBytes            int64  `json:"db_size_in_bytes"`
	RemainingByteQuota       int64  `json:"remaining_byte_quota"`
	TableCount               int    `json:"table_count"`
	PublicVisualizationCount int    `json:"public_visualization_count"`
	AllVisualizationCount    int    `json:"all_visualization_count"`
	OrgAdmin                 bool   `json:"org_admin"`
	OrgUser                  bool   `json:"org_user"`
	Viewer                   bool   `json:"viewer"`
	SoftGeocodingLimit       bool   `json:"soft_geocoding_limit"`
}

// Users reads users: the account's own, or, for an organization's admin, its members.
type Users struct {
	c   *carto.Client
	org string
}

// NewUsers returns the users API of c's account. With org set (the organization's name), Get
// reads members of that organization, which only its admin may.
func NewUsers(c *carto.Client, org string) *Users { return &Users{c: c, org: org} }

// Get returns a user: a member of the organization, or without one the account's own user
// (CARTO's non-organization endpoint answers with the account whatever name is asked).
func (u *Users) Get(ctx context.Context, username string) (*User, error) {
	path := "api/v1/users/" + escape(username)
	if u.org != "" {
		path = "api/v1/organization/" + escape(u.org) + "/users/" + escape(username)
	}
	out := new(User)
	if err := do(ctx, u.c, http.MethodGet, path, nil, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}
