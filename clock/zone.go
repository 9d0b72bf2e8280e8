package clock

import (
	"fmt"
	"time"
)

// DefaultZone is the customer's time zone when none is recorded.
const DefaultZone = "Asia/Shanghai"

// LoadZone returns the time zone named name (an IANA name such as
// "Asia/Shanghai"); the empty name is DefaultZone.
//
// LoadZone reads the time zone database, which is I/O: do not call it from
// workflow code. Call it at worker start-up (and keep the result), in an
// activity or in a test, and hand the *time.Location to the code that needs
// it.
func LoadZone(name string) (*time.Location, error) {
	if name == "" {
		name = DefaultZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("load time zone %q: %w", name, err)
	}
	return loc, nil
}
