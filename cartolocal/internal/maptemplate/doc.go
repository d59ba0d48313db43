// Package maptemplate is the named maps of the Maps API (Windshaft's template-maps.js): a
// template's validation with Windshaft's messages, its token auth, and its instantiation, where
// each placeholder value is written for the place it lands in the SQL (found with internal/pgscan)
// and refused if it would change the SQL's tokens.
package maptemplate
