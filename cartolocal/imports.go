package cartolocal

import (
	"context"
	"crypto/md5"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"github.com/gocarto/carto/cartolocal/internal/httpapi"
	"github.com/gocarto/carto/cartolocal/internal/imports"
	"github.com/gocarto/carto/cartolocal/internal/registry"
	"github.com/gocarto/carto/cartolocal/internal/users"
)

// userID is an account's user_id in the Import API's answers: a UUID made from its name, the
// same in every run.
func userID(name string) string {
	h := md5.Sum([]byte("cartolocal user " + name))
	h[6] = h[6]&0x0f | 0x30
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// importsDir is where uploads wait for their imports: Config.ImportsDir; beside a private
// cluster's data directory; a temporary directory for a temporary cluster (gone with it); and
// for a given PostgreSQL a directory named after its database, so that a restart finds them.
func (s *Server) importsDir(ctx context.Context) (dir string, temporary bool, err error) {
	switch {
	case s.cfg.ImportsDir != "":
		return s.cfg.ImportsDir, false, nil
	case s.cluster != nil && s.cfg.DataDir != "":
		return filepath.Clean(s.cfg.DataDir) + ".imports", false, nil
	case s.cluster != nil:
		d, err := os.MkdirTemp("", "cartolocal-imports-")
		return d, true, err
	}
	var sysid, db string
	if err := s.admin.QueryRow(ctx, "SELECT system_identifier::text, current_database() FROM pg_control_system()").Scan(&sysid, &db); err != nil {
		return "", false, err
	}
	return filepath.Join(os.TempDir(), "cartolocal-imports-"+sysid+"-"+db), false, nil
}

// startImports builds the dataset registry and the Import API server.
func (s *Server) startImports(ctx context.Context) error {
	reg := s.registry // made by startAccountAPIs
	dir, temporary, err := s.importsDir(ctx)
	if err != nil {
		return err
	}
	if temporary {
		s.importsTemp = dir
	}
	account := func(u *users.User) imports.Account {
		return imports.Account{Name: u.Name, ID: userID(u.Name), Schema: u.Schema, Role: u.Role, PublicRole: users.PublicRole}
	}
	s.imports, err = imports.New(ctx, imports.Config{
		Admin: s.admin, PGURL: s.pgURL, Dir: dir, Logf: s.logf,
		Authenticate: func(r *http.Request, apiKey string) (imports.Account, int) {
			p := httpapi.Params{}
			if apiKey != "" {
				p["api_key"] = apiKey
			}
			pr, aerr := s.users.Authenticate(r, p)
			switch {
			case aerr != nil && aerr.Status == http.StatusNotFound:
				return imports.Account{}, http.StatusNotFound
			case aerr != nil || !pr.Master:
				// Rails answers every key but the master key with an empty 401.
				return imports.Account{}, http.StatusUnauthorized
			}
			return account(pr.User), 0
		},
		Accounts: func(name string) (imports.Account, bool) {
			u, ok := s.users.Get(name)
			if !ok {
				return imports.Account{}, false
			}
			return account(u), true
		},
		RegisterTable: func(ctx context.Context, tx pgx.Tx, user, table, privacy string) (string, error) {
			v, err := reg.RegisterTable(ctx, tx, user, table, privacy)
			return v.ID, err
		},
		CreateMap: func(ctx context.Context, user string, m imports.MapSpec) (string, error) {
			v, err := reg.CreateMap(ctx, user, registry.MapSpec{Name: m.Name, Description: m.Description, Tags: m.Tags,
				Privacy: m.Privacy, Tables: m.Tables, Definition: m.Definition, Imported: m.Imported})
			return v.ID, err
		},
	})
	return err
}

// SetStorageQuota sets an account's storage quota in bytes (0 removes it): an import that does
// not fit fails with CARTO's 8001.
func (s *Server) SetStorageQuota(ctx context.Context, user string, bytes int64) error {
	return s.imports.SetStorageQuota(ctx, user, bytes)
}
