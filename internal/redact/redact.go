// Package redact blanks credentials in URLs and in the errors that carry them, so that no API
// key reaches an error message or a log line. The root package, the driver and every API client
// print URLs only through it.
package redact

import (
	"errors"
	"net/url"
	"slices"
	"strings"
)

// secretParams are query parameters CARTO reads keys from; a URL printed anywhere has them blanked.
var secretParams = []string{"api_key", "map_key", "password", "token", "access_token"}

// ParsedURL returns u as a string with any credentials blanked.
func ParsedURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		if _, has := c.User.Password(); has {
			c.User = url.UserPassword(c.User.Username(), "xxxxx")
		}
	}
	if c.User == nil && c.Host == "" {
		// No authority was parsed ("https:/bob:KEY@host", "https:bob:KEY@host"): user info, if
		// any, sits in the path or the opaque part, up to its last '@'.
		if i := strings.LastIndex(c.Opaque, "@"); i >= 0 {
			c.Opaque = "xxxxx" + c.Opaque[i:]
		}
		if i := strings.LastIndex(c.Path, "@"); i >= 0 {
			c.Path, c.RawPath = "/xxxxx"+c.Path[i:], ""
		}
	}
	c.RawQuery = redactQuery(c.RawQuery)
	if c.Fragment != "" {
		// Web map URLs carry keys after a '#' too; a fragment never reaches a server anyway.
		c.Fragment, c.RawFragment = "xxxxx", ""
	}
	return c.String()
}

// redactQuery blanks the values of secretParams in a raw query. It works on the raw pairs rather
// than url.ParseQuery, which skips pairs it cannot parse (a ';', a bad escape) and so would leave
// their keys in place.
func redactQuery(raw string) string {
	if raw == "" {
		return raw
	}
	var b strings.Builder
	for raw != "" {
		pair := raw
		sep := ""
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			pair, sep, raw = raw[:i], raw[i:i+1], raw[i+1:]
		} else {
			raw = ""
		}
		name, _, hasValue := strings.Cut(pair, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if hasValue && slices.Contains(secretParams, strings.ToLower(name)) {
			pair = pair[:strings.IndexByte(pair, '=')+1] + "xxxxx"
		}
		b.WriteString(pair)
		b.WriteString(sep)
	}
	return b.String()
}

// URL returns the URL s with API keys and passwords blanked, for printing. A string that does
// not parse as a URL loses everything that could be a credential.
func URL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		// Unparseable: nothing tells user info from path from query for sure. Without a '@' there
		// is no user info, so keep the text up to where a query could start; with one, keep only
		// the scheme.
		if at := strings.Index(s, "@"); at >= 0 {
			if j := strings.Index(s, "://"); j >= 0 && j < at && !strings.ContainsAny(s[:j], ":/?#%") {
				return s[:j+len("://")] + "…"
			}
			return "…"
		}
		if i := strings.IndexAny(s, "?#&;"); i >= 0 {
			return s[:i] + "…"
		}
		return s
	}
	return ParsedURL(u)
}

// Err rewrites the URL inside a *url.Error so that no key can leak through its message; other
// errors come back as they are.
func Err(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		c := *ue
		c.URL = URL(ue.URL)
		return &c
	}
	return err
}
