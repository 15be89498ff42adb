package sdk

// HealthStatus is the state of a plugin.
type HealthStatus int

// The health states.
const (
	// HealthUnknown is the zero value; the host treats it as NotServing.
	HealthUnknown HealthStatus = iota
	// HealthServing means the plugin can do its work.
	HealthServing
	// HealthDegraded means the plugin works partly (slow or failing upstream).
	HealthDegraded
	// HealthNotServing means the plugin cannot work (not configured, bad
	// credentials).
	HealthNotServing
)

// String returns the state's name in upper case, e.g. "SERVING".
func (s HealthStatus) String() string {
	switch s {
	case HealthServing:
		return "SERVING"
	case HealthDegraded:
		return "DEGRADED"
	case HealthNotServing:
		return "NOT_SERVING"
	default:
		return "UNKNOWN"
	}
}

// Health is the answer to a health check.
type Health struct {
	// Status is the plugin's state.
	Status HealthStatus
	// Message explains the state to the shop owner; required unless Serving.
	Message string
}
