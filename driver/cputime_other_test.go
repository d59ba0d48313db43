//go:build !unix

package driver

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
