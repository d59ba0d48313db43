package cartolocal

// SetDurableDataDirs lets the external tests trade the durability of data directories they
// restart for speed; it returns a function restoring the setting.
func SetDurableDataDirs(on bool) (restore func()) {
	old := durableDataDirs
	durableDataDirs = on
	return func() { durableDataDirs = old }
}
