package carto

import (
	"errors"
	"net/url"
	"slices"
	"strings"
)

// secretParams are query parameters CARTO reads keys from; a URL printed anywhere has them blanked.
var secretParams = []string{"api_key", "map_key", "password", "token", "access_token"}

// redactURL returns u as a string with any credentials blanked.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		if _, has := c.User.Password(); has {
			c.User = url.UserPassword(c.User.Username(), "xxxxx")
		}
	}
	c.RawQuery = redactQuery(c.RawQuery)
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

func redactURLString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		// Unparseable: blank everything up to the last '@' (any user info, whatever it holds),
		// then keep nothing from the query on.
		if i := strings.LastIndex(s, "@"); i >= 0 {
			start := 0
			if j := strings.Index(s, "://"); j >= 0 && j < i {
				start = j + len("://")
			}
			s = s[:start] + "xxxxx" + s[i:]
		}
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			return s[:i] + "…"
		}
		return s
	}
	return redactURL(u)
}

// RedactURL returns rawURL with API keys and passwords blanked, for printing.
func RedactURL(rawURL string) string { return redactURLString(rawURL) }

// redactErr rewrites the URL inside a *url.Error so that no key can leak through its message.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		c := *ue
		c.URL = redactURLString(ue.URL)
		return &c
	}
	return err
}
