package carto

import (
	"errors"
	"net/url"
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
	if c.RawQuery != "" {
		q := c.Query()
		changed := false
		for _, p := range secretParams {
			if q.Has(p) {
				q.Set(p, "xxxxx")
				changed = true
			}
		}
		if changed {
			c.RawQuery = q.Encode()
		}
	}
	return c.String()
}

func redactURLString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		// Unparseable: keep nothing after the host part that could be a key.
		if i := strings.IndexAny(s, "?@"); i >= 0 {
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
