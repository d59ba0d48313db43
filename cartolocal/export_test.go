package cartolocal

// SetClusterNoSync lets the external tests trade the durability of data directories they restart
// for speed; it returns a function restoring the setting.
func SetClusterNoSync(on bool) (restore func()) {
	old := clusterNoSync
	clusterNoSync = on
	return func() { clusterNoSync = old }
}
