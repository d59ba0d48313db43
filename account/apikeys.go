package account

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/gocarto/carto"
)

// KeyType is the type of an API key.
type KeyType string

// The key types.
const (
	MasterKey  KeyType = "master"  // the account's master key: everything
	DefaultKey KeyType = "default" // the default public key (token "default_public")
	RegularKey KeyType = "regular" // a key with the grants it was created with
)

// API is an API a key may call.
type API string

// The APIs a key may be granted.
const (
	SQLAPI  API = "sql"
	MapsAPI API = "maps"
)

// TablePermission is what a key may do on a table.
type TablePermission string

// The table permissions.
const (
	Select TablePermission = "select"
	Insert TablePermission = "insert"
	Update TablePermission = "update"
	Delete TablePermission = "delete"
)

// Service is a data service a key may use.
type Service string

// The data services.
const (
	Geocoding   Service = "geocoding"
	Routing     Service = "routing"
	Isolines    Service = "isolines"
	Observatory Service = "observatory"
)

// Grants are what a key may do.
type Grants struct {
	APIs    []API
	Tables  []TableGrant
	Schemas []SchemaGrant
	// TableMetadata lets the key list the account's tables' metadata.
	TableMetadata bool
	Services      []Service
	// UserData are the user data the key may read ("profile").
	UserData []string
}

// TableGrant is one table and what a key may do on it.
type TableGrant struct {
	Schema      string // the account's schema: its user name
	Name        string
	Permissions []TablePermission
	// Owner, read back from the server, says the key's role owns the table (it created it).
	Owner bool
}

// SchemaGrant lets a key create tables in a schema.
type SchemaGrant struct {
	Name        string
	Permissions []string // "create"
}

type grantJSON struct {
	Type          string            `json:"type"`
	APIs          []API             `json:"apis,omitempty"`
	Tables        []tableGrantJSON  `json:"tables,omitempty"`
	Schemas       []schemaGrantJSON `json:"schemas,omitempty"`
	TableMetadata *[]any            `json:"table_metadata,omitempty"`
	Services      []Service         `json:"services,omitempty"`
	Data          []string          `json:"data,omitempty"`
}

type tableGrantJSON struct {
	Schema      string            `json:"schema"`
	Name        string            `json:"name"`
	Owner       *bool             `json:"owner,omitempty"`
	Permissions []TablePermission `json:"permissions"`
}

type schemaGrantJSON struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

// MarshalJSONTo writes the grants as the Auth API's list of sections.
func (g Grants) MarshalJSONTo(enc *jsontext.Encoder) error {
	apis := g.APIs
	if apis == nil {
		apis = []API{}
	}
	list := []any{struct {
		Type string `json:"type"`
		APIs []API  `json:"apis"`
	}{"apis", apis}}
	if len(g.Tables) > 0 || len(g.Schemas) > 0 || g.TableMetadata {
		db := grantJSON{Type: "database"}
		for _, t := range g.Tables {
			db.Tables = append(db.Tables, tableGrantJSON{Schema: t.Schema, Name: t.Name, Permissions: t.Permissions})
		}
		for _, s := range g.Schemas {
			db.Schemas = append(db.Schemas, schemaGrantJSON(s))
		}
		if g.TableMetadata {
			db.TableMetadata = &[]any{}
		}
		list = append(list, db)
	}
	if len(g.Services) > 0 {
		list = append(list, grantJSON{Type: "dataservices", Services: g.Services})
	}
	if len(g.UserData) > 0 {
		list = append(list, grantJSON{Type: "user", Data: g.UserData})
	}
	return json.MarshalEncode(enc, list)
}

// UnmarshalJSONFrom reads the Auth API's list of sections.
func (g *Grants) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var list []grantJSON
	if err := json.UnmarshalDecode(dec, &list); err != nil {
		return err
	}
	*g = Grants{}
	for _, s := range list {
		switch s.Type {
		case "apis":
			g.APIs = s.APIs
		case "database":
			for _, t := range s.Tables {
				g.Tables = append(g.Tables, TableGrant{Schema: t.Schema, Name: t.Name, Permissions: t.Permissions, Owner: t.Owner != nil && *t.Owner})
			}
			for _, sc := range s.Schemas {
				g.Schemas = append(g.Schemas, SchemaGrant(sc))
			}
			g.TableMetadata = s.TableMetadata != nil
		case "dataservices":
			g.Services = s.Services
		case "user":
			g.UserData = s.Data
		}
	}
	return nil
}

// APIKey is an API key of the account.
type APIKey struct {
	Name  string  `json:"name"`
	Type  KeyType `json:"type"`
	Token string  `json:"token"`
	User  struct {
		Username string `json:"username"`
	} `json:"user"`
	Grants    Grants    `json:"grants"`
	CreatedAt time.Time `json:"-"`
	UpdatedAt time.Time `json:"-"`
	// RawCreatedAt and RawUpdatedAt are the times as the server wrote them (CARTO writes
	// "2018-02-14 13:23:12 UTC"); CreatedAt and UpdatedAt hold them parsed when they parse.
	RawCreatedAt string `json:"created_at"`
	RawUpdatedAt string `json:"updated_at"`
}

// parseTimes fills CreatedAt and UpdatedAt from the raw strings, leniently (protocol §0.4).
func (k *APIKey) parseTimes() {
	for _, p := range []struct {
		raw string
		dst *time.Time
	}{{k.RawCreatedAt, &k.CreatedAt}, {k.RawUpdatedAt, &k.UpdatedAt}} {
		for _, layout := range []string{"2006-01-02 15:04:05 MST", "2006-01-02 15:04:05 -0700", time.RFC3339Nano} {
			if t, err := time.Parse(layout, p.raw); err == nil {
				*p.dst = t
				break
			}
		}
	}
}

// APIKeys manages the account's API keys (the Auth API). Creating, regenerating and deleting
// need the master key; with another key, List and Get see only that key.
type APIKeys struct{ c *carto.Client }

// NewAPIKeys returns the API keys of c's account.
func NewAPIKeys(c *carto.Client) *APIKeys { return &APIKeys{c: c} }

const keysPath = "api/v3/api_keys"

// ErrNoAPIs is a key asked with no API: CARTO's keys need at least one.
var ErrNoAPIs = errors.New("account: an API key needs at least one API (sql or maps)")

// Create makes a regular key. Its PostgreSQL role gets exactly the table and schema grants,
// each of which the account must hold.
func (k *APIKeys) Create(ctx context.Context, name string, g Grants) (*APIKey, error) {
	if len(g.APIs) == 0 {
		return nil, ErrNoAPIs
	}
	body := struct {
		Name   string `json:"name"`
		Grants Grants `json:"grants"`
	}{name, g}
	return k.one(ctx, http.MethodPost, keysPath, body)
}

func (k *APIKeys) one(ctx context.Context, method, path string, body any) (*APIKey, error) {
	out := new(APIKey)
	if err := do(ctx, k.c, method, path, nil, body, out); err != nil {
		return nil, err
	}
	out.parseTimes()
	return out, nil
}

// Get returns a key by name.
func (k *APIKeys) Get(ctx context.Context, name string) (*APIKey, error) {
	return k.one(ctx, http.MethodGet, keysPath+"/"+escape(name), nil)
}

// Regenerate gives a key a new token; the old one stops working at once.
func (k *APIKeys) Regenerate(ctx context.Context, name string) (*APIKey, error) {
	return k.one(ctx, http.MethodPost, keysPath+"/"+escape(name)+"/token/regenerate", nil)
}

// Delete deletes a regular key and its role; its token answers 401 from then on.
func (k *APIKeys) Delete(ctx context.Context, name string) error {
	return do(ctx, k.c, http.MethodDelete, keysPath+"/"+escape(name), nil, nil, nil)
}

// KeyListOptions filter a list of keys.
type KeyListOptions struct {
	Types   []KeyType // empty means all
	PerPage int       // CARTO's default, 20, when 0
}

// List iterates over the account's keys: the master key, the default public key, then the
// regular ones.
func (k *APIKeys) List(ctx context.Context, o *KeyListOptions) iter.Seq2[*APIKey, error] {
	if o == nil {
		o = &KeyListOptions{}
	}
	return pages(ctx, func(ctx context.Context, page int) ([]*APIKey, int, error) {
		q := url.Values{"page": {strconv.Itoa(page)}}
		if o.PerPage > 0 {
			q.Set("per_page", strconv.Itoa(o.PerPage))
		}
		if len(o.Types) > 0 {
			t := make([]string, len(o.Types))
			for i, v := range o.Types {
				t[i] = string(v)
			}
			q.Set("type", strings.Join(t, ","))
		}
		var out struct {
			Total  int       `json:"total"`
			Result []*APIKey `json:"result"`
		}
		if err := do(ctx, k.c, http.MethodGet, keysPath, q, nil, &out); err != nil {
			return nil, 0, err
		}
		for _, key := range out.Result {
			key.parseTimes()
		}
		return out.Result, out.Total, nil
	})
}
