package carto

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/gocarto/carto/internal/httpclient"
	"github.com/gocarto/carto/internal/redact"
	"github.com/gocarto/carto/internal/username"
)

// Client is a handle on one CARTO account: its base URL, its API key and the HTTP settings used to
// reach it. It is safe for concurrent use; build it once and share it.
type Client struct {
	base      *url.URL // always ends in "/"
	user      string
	apiKey    string
	http      *http.Client
	userAgent string
	clientID  string
	retry     RetryPolicy
}

// Option configures a Client in NewClient.
type Option func(*Client) error

// WithAPIKey sets the API key. Without it NewClient uses $CARTO_API_KEY; without both, requests run
// as the account's public role (read-only, published tables only).
func WithAPIKey(key string) Option {
	return func(c *Client) error { c.apiKey = key; return nil }
}

// WithHTTPClient sets the *http.Client used for every request. NewClient otherwise builds one whose
// transport keeps more idle connections per host than Go's default of two, since every query is a
// request, and that refuses to follow redirects so credentials never travel to another host.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("carto: WithHTTPClient: nil *http.Client")
		}
		c.http = hc
		return nil
	}
}

// WithUserAgent replaces the User-Agent header, gocarto/Version by default.
func WithUserAgent(ua string) Option {
	return func(c *Client) error { c.userAgent = ua; return nil }
}

// WithClientID sets the client parameter sent with SQL API requests; CARTO echoes it back in the
// Carto-Client header and logs it, which lets an account tell its applications apart.
func WithClientID(id string) Option {
	return func(c *Client) error { c.clientID = id; return nil }
}

// WithRetryPolicy replaces the retry policy (DefaultRetryPolicy). Use NoRetries to send every
// request exactly once.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *Client) error {
		if p.MaxAttempts < 1 {
			return fmt.Errorf("carto: WithRetryPolicy: MaxAttempts is %d, want at least 1", p.MaxAttempts)
		}
		c.retry = p
		return nil
	}
}

const acceptedForms = "https://USER.carto.com, https://ORG.carto.com/user/USER or http(s)://HOST[:PORT]/user/USER"

// NewClient returns a Client for the account at baseURL, which takes one of three forms:
//
//	https://USER.carto.com               a user's account
//	https://ORG.carto.com/user/USER      a user of an organization
//	http://HOST:PORT/user/USER           on-premises CARTO and cartolocal
//
// A trailing slash is allowed. Anything else is an error that shows these forms.
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	base, user, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:      base,
		user:      user,
		apiKey:    os.Getenv("CARTO_API_KEY"),
		userAgent: "gocarto/" + Version,
		retry:     DefaultRetryPolicy,
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if c.http == nil {
		c.http = httpclient.New()
	}
	return c, nil
}

func parseBaseURL(raw string) (*url.URL, string, error) {
	bad := func(why string) error {
		shown := redact.URL(raw)
		// A base URL holds no credentials, so any user info is a mistake, and a user name alone
		// is often a key pasted in the wrong place (https://KEY@host): blank it whole.
		if u, err := url.Parse(strings.TrimSpace(raw)); err == nil && u.User != nil {
			u.User = url.User("xxxxx")
			shown = redact.ParsedURL(u)
		}
		return fmt.Errorf("carto: invalid base URL %q: %s; use %s", shown, why, acceptedForms)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, "", bad("it does not parse")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, "", bad("the scheme must be http or https")
	}
	if u.Host == "" {
		return nil, "", bad("it has no host")
	}
	if u.User != nil {
		return nil, "", bad("credentials do not belong in the URL (use WithAPIKey)")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, "", bad("it must not carry a query or fragment (use WithAPIKey for the key)")
	}
	path := strings.Trim(u.Path, "/")
	var user string
	switch {
	case path == "":
		host := u.Hostname()
		sub, rest, ok := strings.Cut(host, ".")
		if !ok || rest == "" || sub == "" || !strings.Contains(rest, ".") && rest != "localhost" {
			return nil, "", bad("the user is neither the first label of the host nor in a /user/USER path")
		}
		user = sub
	default:
		parts := strings.Split(path, "/")
		if len(parts) != 2 || parts[0] != "user" || parts[1] == "" {
			return nil, "", bad("the path must be empty or /user/USER")
		}
		user = parts[1]
	}
	if !username.Valid(user) {
		return nil, "", bad(fmt.Sprintf("%q is not a CARTO user name", user))
	}
	u.Path = "/" + path
	if path != "" {
		u.Path += "/"
	}
	u.RawPath = ""
	return u, user, nil
}

// User is the account's user name, as taken from the base URL.
func (c *Client) User() string { return c.user }

// BaseURL is the account's base URL, ending in a slash. It never contains the API key.
func (c *Client) BaseURL() string { return c.base.String() }

// HasAPIKey reports whether requests carry an API key; without one they run as the public role.
func (c *Client) HasAPIKey() bool { return c.apiKey != "" }

// ClientID is the client parameter set with WithClientID, or "".
func (c *Client) ClientID() string { return c.clientID }

// URL resolves path (such as "api/v2/sql") against the base URL. The result never carries the key.
func (c *Client) URL(path string) *url.URL {
	u := *c.base
	u.Path = c.base.Path + strings.TrimPrefix(path, "/")
	return &u
}
