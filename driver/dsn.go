package driver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gocarto/carto/internal/username"
)

const dsnExamples = "valid DSNs look like carto://alice:API_KEY@alice.carto.com, " +
	"carto://bob:API_KEY@acme.carto.com/user/bob or " +
	"carto://alice:API_KEY@127.0.0.1:8080/user/alice?sslmode=disable " +
	"(or an account URL: https://alice.carto.com/?api_key=API_KEY)"

// dsnParams are the query parameters a DSN may carry, in the order FormatDSN writes them.
var dsnParams = []string{"api_key", "sslmode", "timeout", "max_retries", "spool_memory", "client"}

// ParseDSN parses a data source name in one of these forms:
//
//	carto://[USER[:API_KEY]@]HOST[:PORT][/user/USER][?PARAMS]
//	https://USER.carto.com/[?PARAMS]
//	http(s)://HOST[:PORT]/user/USER[?PARAMS]
//
// The carto scheme means HTTPS unless sslmode=disable. The user is the one before the @, else
// the one in the /user/USER path, else the first label of the host (alice in alice.carto.com).
// A user that is not the host's first label is reached through /user/USER on that host, as
// organization users and on-premises installs are. A user name of 32 or more hex digits is
// refused as an API key pasted without "USER:". Errors never quote the part before the @, nor
// a path or parameter name long enough to be a key. The parameters are:
//
//	api_key       the API key, instead of USER:API_KEY@ (without either, $CARTO_API_KEY is used)
//	sslmode       disable for plain HTTP (cartolocal); require or verify-full for HTTPS, the default
//	timeout       per-request time limit, a Go duration such as 30s or 2m
//	max_retries   how often a request that is safe to repeat may be repeated (default 3)
//	spool_memory  bytes of an answer held in memory before a temporary file is used: 8MiB, 512k, …
//	client        client name that CARTO logs with each request
func ParseDSN(dsn string) (*Config, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("carto driver: invalid DSN %s: %s; %s", redactDSN(dsn), fmt.Sprintf(format, args...), dsnExamples)
	}
	u, err := url.Parse(strings.TrimSpace(dsn))
	if err != nil {
		// url.Parse's error quotes the whole DSN, key included: do not wrap it.
		return nil, bad("it does not parse as a URL")
	}
	secure := true
	switch u.Scheme {
	case "carto", "https":
	case "http":
		secure = false
	case "":
		return nil, bad("it has no scheme")
	default:
		return nil, bad("the scheme is %q, want carto, https or http", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, bad("it has no host (write carto://HOST, with two slashes)")
	}
	if u.Fragment != "" {
		return nil, bad("it has a #fragment")
	}
	host := u.Host
	hostname := u.Hostname()
	if hostname == "" {
		return nil, bad("it has no host name")
	}

	cfg := NewConfig()
	var userinfoUser string
	if u.User != nil {
		userinfoUser = u.User.Username()
		cfg.APIKey, _ = u.User.Password()
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, bad("its parameters do not parse")
	}
	for name, vals := range q {
		if !isDSNParam(name) {
			if !mayShow(name) {
				return nil, bad("it has an unknown parameter (known: %s)", strings.Join(dsnParams, ", "))
			}
			return nil, bad("unknown parameter %q (known: %s)", name, strings.Join(dsnParams, ", "))
		}
		if len(vals) != 1 {
			return nil, bad("parameter %s is given %d times", name, len(vals))
		}
	}
	if v := q.Get("api_key"); q.Has("api_key") {
		if cfg.APIKey != "" {
			return nil, bad("it has an API key both before the @ and in api_key")
		}
		if v == "" {
			return nil, bad("api_key is empty")
		}
		cfg.APIKey = v
	}
	if q.Has("sslmode") {
		if u.Scheme != "carto" {
			return nil, bad("sslmode belongs to carto:// DSNs; the %s scheme already says it", u.Scheme)
		}
		switch q.Get("sslmode") {
		case "disable":
			secure = false
		case "require", "verify-full":
		default:
			return nil, bad("sslmode is %q, want disable (plain HTTP), require or verify-full (HTTPS, the default)", q.Get("sslmode"))
		}
	}
	if q.Has("timeout") {
		d, err := time.ParseDuration(q.Get("timeout"))
		if err != nil || d < 0 {
			return nil, bad("timeout is %q, want a Go duration such as 30s or 2m", q.Get("timeout"))
		}
		cfg.Timeout = d
	}
	if q.Has("max_retries") {
		n, err := strconv.Atoi(q.Get("max_retries"))
		if err != nil || n < 0 || n > 100 {
			return nil, bad("max_retries is %q, want a whole number from 0 to 100", q.Get("max_retries"))
		}
		cfg.MaxRetries = n
		if n == 0 {
			cfg.MaxRetries = -1 // none; a zero MaxRetries is the default
		}
	}
	if q.Has("spool_memory") {
		n, err := parseSize(q.Get("spool_memory"))
		if err != nil {
			return nil, bad("spool_memory is %q, want a size in bytes such as 8MiB, 512k or 1048576", q.Get("spool_memory"))
		}
		cfg.SpoolMemory = n
	}
	cfg.ClientID = q.Get("client")

	var pathUser string
	switch p := strings.Trim(u.Path, "/"); {
	case p == "":
	case strings.HasPrefix(p, "user/") && !strings.Contains(p[len("user/"):], "/") && len(p) > len("user/"):
		pathUser = p[len("user/"):]
	case !mayShow(u.Path):
		return nil, bad("the path is not /user/USER (want none or /user/USER)")
	default:
		return nil, bad("the path is %q, want none or /user/USER", u.Path)
	}
	// An API key pasted without "USER:" before the @ (or put in the path) would be taken as
	// the user name, and then be in every request's URL and in String().
	if looksLikeKey(userinfoUser) || looksLikeKey(pathUser) {
		return nil, bad("the user name in the DSN looks like an API key; write USER:API_KEY@ before the host")
	}
	// The user before the @ is never quoted: it may be a key pasted without "USER:".
	if userinfoUser != "" && pathUser != "" && userinfoUser != pathUser {
		return nil, bad("the user name before the @ is not the one in the path")
	}

	firstLabel := ""
	if net.ParseIP(hostname) == nil {
		if l, rest, ok := strings.Cut(hostname, "."); ok && rest != "" && (strings.Contains(rest, ".") || rest == "localhost") {
			firstLabel = l
		}
	}
	scheme := "https"
	if !secure {
		scheme = "http"
	}
	user := userinfoUser
	if user == "" {
		user = pathUser
	}
	switch {
	case pathUser == "" && user == "" && firstLabel == "":
		return nil, bad("it names no user: write carto://USER:API_KEY@%s or add /user/USER", host)
	case pathUser == "" && (user == "" || user == firstLabel):
		user = firstLabel
		cfg.BaseURL = scheme + "://" + host + "/"
	default:
		cfg.BaseURL = scheme + "://" + host + "/user/" + url.PathEscape(user) + "/"
	}
	cfg.User = user
	if !username.Valid(user) {
		const want = "is not a CARTO user name (letters, digits, - and _, starting with a letter)"
		switch {
		case user == userinfoUser:
			return nil, bad("the user name before the @ " + want)
		case !mayShow(user):
			return nil, bad("the user name in the path " + want)
		}
		return nil, bad("%q "+want, user)
	}
	return cfg, nil
}

// mayShow reports whether a part of a DSN other than its userinfo (the path, a parameter name)
// may be quoted in an error: only when it is too short to be an API key put in the wrong place.
func mayShow(s string) bool { return len(s) < 16 }

// looksLikeKey reports whether s has the form of a CARTO API key (40 hex digits) rather than of
// a user name: 32 or more hex digits and nothing else.
func looksLikeKey(s string) bool {
	if len(s) < 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func isDSNParam(name string) bool {
	for _, p := range dsnParams {
		if p == name {
			return true
		}
	}
	return false
}

// FormatDSN writes cfg as a carto:// DSN that ParseDSN reads back into the same Config (except
// HTTPClient, which no DSN can hold). The API key is in it: print String() instead.
func (cfg *Config) FormatDSN() string {
	return cfg.formatDSN(cfg.APIKey, false)
}

// String is the DSN with the API key replaced by xxxxx, for logs and error messages. A user
// name that has the form of an API key (see ParseDSN) is replaced too.
func (cfg *Config) String() string {
	key := cfg.APIKey
	if key != "" {
		key = "xxxxx"
	}
	return cfg.formatDSN(key, true)
}

func (cfg *Config) formatDSN(key string, redact bool) string {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Host == "" {
		return "carto://invalid-base-url"
	}
	user := cfg.User
	path := strings.Trim(base.Path, "/")
	pathUser, hasPathUser := strings.CutPrefix(path, "user/")
	if hasPathUser {
		user = pathUser
	} else if user == "" {
		user, _, _ = strings.Cut(base.Hostname(), ".")
	}
	if redact && looksLikeKey(user) {
		user = "xxxxx"
	}
	if redact && looksLikeKey(pathUser) {
		pathUser = "xxxxx"
	}
	d := url.URL{Scheme: "carto", Host: base.Host}
	switch {
	case key != "":
		d.User = url.UserPassword(user, key)
	case user != "":
		d.User = url.User(user)
	}
	if hasPathUser {
		d.Path = "/user/" + pathUser
	}
	var params []string
	add := func(name, value string) { params = append(params, name+"="+url.QueryEscape(value)) }
	if base.Scheme == "http" {
		add("sslmode", "disable")
	}
	if cfg.Timeout > 0 {
		add("timeout", cfg.Timeout.String())
	}
	if cfg.MaxRetries != 0 {
		add("max_retries", strconv.Itoa(max(cfg.MaxRetries, 0)))
	}
	if cfg.SpoolMemory > 0 {
		add("spool_memory", formatSize(cfg.SpoolMemory))
	}
	if cfg.ClientID != "" {
		add("client", cfg.ClientID)
	}
	d.RawQuery = strings.Join(params, "&")
	return d.String()
}

// redactDSN prints a DSN for an error message without its key; a DSN that does not even parse
// is shown only up to its host, since the key could be anywhere in it.
func redactDSN(dsn string) string {
	u, err := url.Parse(strings.TrimSpace(dsn))
	if err != nil {
		scheme, _, ok := strings.Cut(dsn, "://")
		if ok && len(scheme) < 16 {
			return strconv.Quote(scheme + "://…")
		}
		return `"…"`
	}
	if u.Opaque != "" || u.Host == "" {
		// Without "//" and a host (carto:alice:KEY@host, carto:///alice:KEY@host) no userinfo
		// is recognised: the key sits in the opaque part or the path.
		return strconv.Quote(u.Scheme + "://…")
	}
	// The key is never shown. The user name is, since the error is often about it, unless it
	// could be a key pasted without "USER:" (key-shaped, or long and not a user name).
	if u.User != nil {
		name := u.User.Username()
		if looksLikeKey(name) || !username.Valid(name) && !mayShow(name) {
			name = "xxxxx"
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(name, "xxxxx")
		} else {
			u.User = url.User(name)
		}
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if !mayShow(seg) {
			u.Path, u.RawPath = "/xxxxx", ""
			break
		}
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		switch {
		case err != nil:
			u.RawQuery = "…"
		default:
			// Any parameter but the known harmless ones may be a key, even a misspelled one,
			// and so may a long name (a key pasted as ?KEY).
			for name := range q {
				switch {
				case !isDSNParam(name) && !mayShow(name):
					q.Del(name)
					q.Set("xxxxx", "xxxxx")
				case name == "api_key" || !isDSNParam(name):
					q.Set(name, "xxxxx")
				}
			}
			u.RawQuery = q.Encode()
		}
	}
	u.Fragment, u.RawFragment = "", ""
	return strconv.Quote(u.String())
}

var sizeUnits = []struct {
	suffix string
	shift  uint
}{
	{"GiB", 30}, {"GB", 30}, {"G", 30}, {"g", 30},
	{"MiB", 20}, {"MB", 20}, {"M", 20}, {"m", 20},
	{"KiB", 10}, {"kB", 10}, {"KB", 10}, {"k", 10}, {"K", 10},
	{"B", 0},
}

// parseSize reads a byte count with an optional binary unit: 8MiB, 8M, 512k, 1048576.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	shift := uint(0)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, shift = strings.TrimSpace(rest), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > (1<<62)>>shift {
		return 0, errors.New("size out of range")
	}
	return n << shift, nil
}

func formatSize(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10)
}
