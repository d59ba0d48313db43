package cartolocal

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gocarto/carto/cartolocal/internal/cartodb"
	"github.com/gocarto/carto/cartolocal/internal/users"
	"github.com/gocarto/carto/cartolocal/pgcluster"
)

// clusterNoSync is set by tests that restart private clusters on a data directory and care about
// their speed, not about surviving a power cut.
var clusterNoSync = false

// start brings up PostgreSQL (a private cluster unless Config.PGURL is set), fills s.admin and
// s.pgURL, installs the cartodb schema and the server's own tables, and makes the account
// directory. In a private cluster the accounts kept from an earlier run on the same data directory
// are served again.
func (s *Server) start(ctx context.Context) error {
	url := s.cfg.PGURL
	if url == "" {
		c, err := pgcluster.Start(ctx, pgcluster.Config{DataDir: s.cfg.DataDir, Logf: s.logf, NoSync: clusterNoSync})
		if err != nil {
			return err
		}
		s.cluster = c
		url = c.URL()
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx errors quote the URL with its password masked; say no more.
		return fmt.Errorf("cartolocal: PostgreSQL URL: %w", err)
	}
	pcfg.MaxConns = 10
	if pcfg.ConnConfig.Database == "" {
		// PostgreSQL's default; the accounts' pools, made from this config, log in as others.
		pcfg.ConnConfig.Database = pcfg.ConnConfig.User
	}
	pcfg.ConnConfig.RuntimeParams["application_name"] = "cartolocal"
	if s.admin, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		return fmt.Errorf("cartolocal: %w", err)
	}
	s.pgURL = url
	postgis, publicPassword, err := s.install(ctx)
	if err != nil {
		return fmt.Errorf("cartolocal: preparing the database: %w", err)
	}
	s.users = users.New(users.Options{
		Admin: s.admin, PostGISSchema: postgis, PublicPassword: publicPassword,
		StatementTimeout: s.cfg.StatementTimeout,
	})
	if s.cluster != nil {
		if err := s.users.Load(ctx); err != nil {
			return fmt.Errorf("cartolocal: loading accounts: %w", err)
		}
	}
	return nil
}

// install creates, or brings up to date, everything cartolocal needs in the database: PostGIS,
// the account directory's schema and public role, and the cartodb schema of CARTO functions, in
// one transaction. It is idempotent, and safe to run by several processes at once. It returns the
// schema holding PostGIS and the public role's password.
func (s *Server) install(ctx context.Context) (postgisSchema, publicPassword string, err error) {
	tx, err := s.admin.Begin(ctx)
	if err != nil {
		return "", "", err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(users.InstallLockKey)); err != nil {
		return "", "", err
	}
	var super bool
	if err := tx.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		return "", "", err
	}
	if !super {
		return "", "", errors.New("the PostgreSQL URL must log in as a superuser, which cartolocal needs to create roles and install PostGIS")
	}
	if postgisSchema, err = cartodb.InstallPostGIS(ctx, tx); err != nil {
		return "", "", err
	}
	if publicPassword, err = users.Install(ctx, tx); err != nil {
		return "", "", err
	}
	if err := cartodb.Install(ctx, tx, postgisSchema); err != nil {
		return "", "", err
	}
	return postgisSchema, publicPassword, tx.Commit(ctx)
}
