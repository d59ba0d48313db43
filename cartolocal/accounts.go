package cartolocal

import (
	"context"
	"fmt"

	"github.com/gocarto/carto/cartolocal/internal/account"
	"github.com/gocarto/carto/cartolocal/internal/apikeys"
	"github.com/gocarto/carto/cartolocal/internal/authapi"
	"github.com/gocarto/carto/cartolocal/internal/registry"
	"github.com/gocarto/carto/cartolocal/internal/users"
)

// startAccountAPIs makes the dataset registry, the regular API keys (which the account directory
// then accepts) and the servers of the account APIs and the Auth API.
func (s *Server) startAccountAPIs(ctx context.Context) ([]api, error) {
	reg, err := registry.New(ctx, s.admin, func(name string) (registry.Account, bool) {
		u, ok := s.users.Get(name)
		if !ok {
			return registry.Account{}, false
		}
		return registry.Account{Name: u.Name, Schema: u.Schema, PublicRole: users.PublicRole}, true
	})
	if err != nil {
		return nil, err
	}
	s.registry = reg
	keys, err := apikeys.New(ctx, s.admin)
	if err != nil {
		return nil, err
	}
	s.users.SetKeys(keys)
	s.account, err = account.New(ctx, account.Deps{
		Admin: s.admin, Users: s.users, Registry: reg, PGURL: s.pgURL, Logf: s.logf,
	})
	if err != nil {
		return nil, err
	}
	return []api{s.account, authapi.New(authapi.Deps{Users: s.users, Keys: keys, Orgs: s.account.Orgs(), Logf: s.logf})}, nil
}

// AddOrganization groups accounts in an organization named name with admin as its admin (the
// one who may read its members through /api/v1/organization/NAME/users/USER and manage their
// API keys with target_user). Calling it again redefines the organization.
func (s *Server) AddOrganization(ctx context.Context, name, admin string, members ...string) error {
	for _, u := range append([]string{admin}, members...) {
		if _, ok := s.users.Get(u); !ok {
			return fmt.Errorf("cartolocal: organization %q: no account %q", name, u)
		}
	}
	return s.account.Orgs().Create(ctx, name, admin, members...)
}
