package migrate

import "time"

// SetRenewEvery makes d renew its lease every interval instead of every third of the lease, so
// that a test can outlive a lease without waiting for three of them. Call it before Lock.
func SetRenewEvery(d *Driver, every time.Duration) { d.renewEvery = every }
