package shop

import (
	"strconv"
	"strings"
	"time"
)

// inWords says a duration as the settings screen does ("5 minutes",
// "7 days", "1 hour 30 minutes"), not as Go prints it ("5m0s"): messages
// quote the deadline and the reminder lead to staff. Units below a
// second are dropped; settings hold whole seconds.
func inWords(d time.Duration) string {
	if d < time.Second {
		return "0 seconds"
	}
	var parts []string
	for _, u := range []struct {
		size time.Duration
		one  string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		n := d / u.size
		if n == 0 {
			continue
		}
		d -= n * u.size
		word := u.one
		if n != 1 {
			word += "s"
		}
		parts = append(parts, strconv.FormatInt(int64(n), 10)+" "+word)
	}
	return strings.Join(parts, " ")
}
