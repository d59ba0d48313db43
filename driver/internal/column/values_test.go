package column

import (
	"testing"
	"time"
)

// CARTO writes a date's year unpadded (JavaScript's getFullYear: 1, 999, 10000, 0 for 1 BC, -1
// for 2 BC); Go's zero time, 0001-01-01, is a common sentinel in date columns.
func TestDecodeYearsOutsideFourDigits(t *testing.T) {
	for text, want := range map[string]time.Time{
		"1-01-01T00:00:00Z":       time.Time{},
		"999-12-31T23:59:59Z":     time.Date(999, 12, 31, 23, 59, 59, 0, time.UTC),
		"10000-01-01T00:00:00Z":   time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		"0-06-01T00:00:00Z":       time.Date(0, 6, 1, 0, 0, 0, 0, time.UTC),
		"-43-03-15T12:00:00+0100": time.Date(-43, 3, 15, 11, 0, 0, 0, time.UTC),
		"294276-12-31T23:59:59Z":  time.Date(294276, 12, 31, 23, 59, 59, 0, time.UTC),
		"0999-01-02":              time.Date(999, 1, 2, 0, 0, 0, 0, time.UTC),
	} {
		got, ok := parseTimestamp([]byte(text))
		if !ok || !got.Equal(want) {
			t.Errorf("parseTimestamp(%q) = %v, %v; want %v", text, got, ok, want)
		}
	}
	for _, text := range []string{"--1-01-01T00:00:00Z", "1234567890123-01-01T00:00:00Z", "-01-01T00:00:00Z", "2020-1-01"} {
		if got, ok := parseTimestamp([]byte(text)); ok {
			t.Errorf("parseTimestamp(%q) = %v, want no time", text, got)
		}
	}
}

// TestParseIntRefusesBeyondInt64: an int8 text past int64's range, or not an integer, is an error
// (the rounded 2^63 CARTO writes for MaxInt64 is read as MaxInt64 by the driver's own test).
func TestParseIntRefusesBeyondInt64(t *testing.T) {
	for _, text := range []string{"9223372036854777000", "1e19", "1.5"} {
		if n, err := parseInt([]byte(text)); err == nil {
			t.Errorf("parseInt(%s) = %d, want an error", text, n)
		}
	}
}
