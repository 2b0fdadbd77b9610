package national

// Config is the gateway's config file (GATEWAY.md "Authentication"): the
// signature scheme, the area code (admdvs) answers carry, and each
// institution's credential.
type Config struct {
	// Scheme is "x-tif" (Guangdong) or "csb" (Jiangsu).
	Scheme       string       `json:"scheme"`
	Area         string       `json:"area"`
	Institutions []Credential `json:"institutions"`
}
