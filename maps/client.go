package maps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/go-json-experiment/json"

	"github.com/gocarto/carto"
)

// Client calls the Maps API of one account.
type Client struct {
	c *carto.Client
}

// New returns a Maps API client that sends its requests through c. Anonymous maps of private
// tables and every named-map administration call need c's key to be the master key.
func New(c *carto.Client) *Client { return &Client{c: c} }

// Paths below the account's base URL, with the trailing slash carto-python sends.
const (
	anonymousPath = "api/v1/map/"
	namedPath     = "api/v1/map/named/"
)

// maxResponse bounds a JSON answer of the Maps API: a layergroup or a template is kilobytes.
const maxResponse = 16 << 20

// Anonymous creates an anonymous map from cfg and returns its layergroup.
func (m *Client) Anonymous(ctx context.Context, cfg *MapConfig) (*LayerGroup, error) {
	if cfg == nil || len(cfg.Layers) == 0 {
		return nil, errors.New("maps: Anonymous: a MapConfig needs at least one layer")
	}
	body, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("maps: Anonymous: %w", err)
	}
	lg := &LayerGroup{client: m}
	if err := m.call(ctx, http.MethodPost, anonymousPath, nil, body, lg); err != nil {
		return nil, err
	}
	return lg, nil
}

// CreateNamed stores t as a named map and returns its id (its name). It needs the master key; a
// template of that name already existing is an error (400).
func (m *Client) CreateNamed(ctx context.Context, t *Template) (string, error) {
	body, err := marshalTemplate(t)
	if err != nil {
		return "", fmt.Errorf("maps: CreateNamed: %w", err)
	}
	var out struct {
		TemplateID string `json:"template_id"`
	}
	if err := m.call(ctx, http.MethodPost, namedPath, nil, body, &out); err != nil {
		return "", err
	}
	return out.TemplateID, nil
}

// GetNamed returns the named map called name (master key). An unknown name is a *carto.Error
// for which carto.IsNotFound is true.
func (m *Client) GetNamed(ctx context.Context, name string) (*Template, error) {
	var out struct {
		Template *Template `json:"template"`
	}
	if err := m.call(ctx, http.MethodGet, namedPath+url.PathEscape(name), nil, nil, &out); err != nil {
		return nil, err
	}
	if out.Template == nil {
		return nil, fmt.Errorf("maps: GetNamed %q: the answer holds no template", name)
	}
	return out.Template, nil
}

// UpdateNamed replaces the named map called t.Name (master key); its name cannot change.
func (m *Client) UpdateNamed(ctx context.Context, t *Template) error {
	body, err := marshalTemplate(t)
	if err != nil {
		return fmt.Errorf("maps: UpdateNamed: %w", err)
	}
	return m.call(ctx, http.MethodPut, namedPath+url.PathEscape(t.Name), nil, body, nil)
}

// DeleteNamed removes the named map called name (master key).
func (m *Client) DeleteNamed(ctx context.Context, name string) error {
	return m.call(ctx, http.MethodDelete, namedPath+url.PathEscape(name), nil, nil, nil)
}

// ListNamed returns the names of the account's named maps (master key).
func (m *Client) ListNamed(ctx context.Context) ([]string, error) {
	var out struct {
		TemplateIDs []string `json:"template_ids"`
	}
	if err := m.call(ctx, http.MethodGet, namedPath, nil, nil, &out); err != nil {
		return nil, err
	}
	return out.TemplateIDs, nil
}

// Instantiate makes a layergroup of the named map called name, with params as placeholder values
// (placeholders left out take their defaults). token is the auth_token a token-protected template
// asks for; empty for an open one. The layergroup keeps token for its tiles.
func (m *Client) Instantiate(ctx context.Context, name string, params map[string]any, token string) (*LayerGroup, error) {
	if params == nil {
		params = map[string]any{}
	}
	body, err := json.Marshal(params, json.Deterministic(true))
	if err != nil {
		return nil, fmt.Errorf("maps: Instantiate: %w", err)
	}
	var q url.Values
	if token != "" {
		q = url.Values{"auth_token": {token}}
	}
	lg := &LayerGroup{client: m, authToken: token}
	if err := m.call(ctx, http.MethodPost, namedPath+url.PathEscape(name), q, body, lg); err != nil {
		return nil, err
	}
	return lg, nil
}

func marshalTemplate(t *Template) ([]byte, error) {
	if t == nil {
		return nil, errors.New("nil template")
	}
	c := *t
	if c.Version == "" {
		c.Version = "0.0.1"
	}
	if c.Auth.Method == "" {
		c.Auth.Method = AuthOpen
	}
	return json.Marshal(&c, json.Deterministic(true))
}

// call sends one JSON request and decodes the answer into out (nil: the body is discarded).
func (m *Client) call(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	req := &carto.Request{Method: method, Path: path, Query: q, Body: body,
		Idempotent: method == http.MethodGet}
	if body != nil {
		req.ContentType = "application/json"
	}
	resp, err := m.c.Do(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
		return nil
	}
	if err := json.UnmarshalRead(io.LimitReader(resp.Body, maxResponse), out, json.RejectUnknownMembers(false)); err != nil {
		return fmt.Errorf("maps: %s %s: reading the answer: %w", method, path, err)
	}
	return nil
}
