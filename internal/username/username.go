// Package username knows what a CARTO user name may be, for carto.NewClient's base URLs and the
// driver's DSNs alike.
package username

// Valid reports whether s can be a CARTO user name: letters, digits and dashes, starting with a
// letter, at most 63 characters. Underscores are let through because on-premises installs have
// them.
func Valid(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '_'):
		default:
			return false
		}
	}
	return true
}
