package national

// Config is the gateway's config file (GATEWAY.md "Authentication"): the
// signature scheme, the area code (admdvs) answers carry, and each
// institution's credential.
type Config struct {
	// Scheme is "x-tif" (Guangdong) or "csb" (Jiangsu).
	Scheme       string       `json:"scheme"`
	Area         string       `json:"area"`
	Institutions []Credential `json:"institutions"`
	// ReplayCapacity is how many nonces (x-tif) or csb triples the replay
	// cache holds over its ten minutes (0: DefaultReplayCapacity). The
	// gateway answers "系统繁忙" (HTTP 503) while it is full, so size it
	// for the peak: requests per second × 600 (about 60 bytes each).
	ReplayCapacity int `json:"replay_capacity,omitempty"`
}
