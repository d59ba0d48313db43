package cartolocal

import "time"

// SetClusterNoSync lets the external tests trade the durability of data directories they restart
// for speed; it returns a function restoring the setting.
func SetClusterNoSync(on bool) (restore func()) {
	old := clusterNoSync
	clusterNoSync = on
	return func() { clusterNoSync = old }
}

// SetBodyIdleTimeout shortens the pause a request body may make, for the tests of it; it returns
// a function restoring the setting.
func SetBodyIdleTimeout(d time.Duration) (restore func()) {
	old := bodyIdleTimeout
	bodyIdleTimeout = d
	return func() { bodyIdleTimeout = old }
}
