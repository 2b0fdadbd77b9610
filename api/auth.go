package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Role is what a caller may do.
type Role int

// Roles of API.md "Access".
const (
	// RoleInstitution settles, pre-settles, reverses and reads its own
	// settlements, and reads persons and accumulators.
	RoleInstitution Role = iota + 1
	// RoleClearing runs clearing and reads.
	RoleClearing
	// RoleAdmin may do everything.
	RoleAdmin
)

// Principal is the authenticated caller.
type Principal struct {
	Role Role
	// Institution is the institution id of a RoleInstitution caller.
	Institution string
}

// String is the principal as a tokens file names its role: "admin",
// "clearing", "institution:<id>".
func (p Principal) String() string {
	switch p.Role {
	case RoleAdmin:
		return "admin"
	case RoleClearing:
		return "clearing"
	case RoleInstitution:
		return "institution:" + p.Institution
	}
	return "none"
}

// Tokens maps bearer tokens to principals. The zero value (no tokens) is
// open mode: every caller is an administrator.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	hash      [32]byte
	principal Principal
	// boxed is principal as a context value, and caller its callerKey,
	// made once: a call authenticated in tapAuth costs no allocation for
	// either.
	boxed  any
	caller string
}

// newTokenEntry is the entry of the token hashed to h.
func newTokenEntry(h [32]byte, p Principal) tokenEntry {
	return tokenEntry{hash: h, principal: p, boxed: p, caller: p.String()}
}

// openEntry is every caller in open mode: admin, with no share of its
// own (callerKey "").
var openEntry = &tokenEntry{principal: Principal{Role: RoleAdmin}, boxed: Principal{Role: RoleAdmin}}

// tokenFile is the JSON of --tokens FILE.
type tokenFile struct {
	Tokens []struct {
		Token string `json:"token"`
		Role  string `json:"role"`
	} `json:"tokens"`
}

// MinTokenLen is the token length below which LoadTokens warns: shorter
// tokens are easy to guess.
const MinTokenLen = 16

// LoadTokens reads a tokens file: {"tokens": [{"token": "…", "role":
// "institution:QZ-H3" | "clearing" | "admin"}]}. Other keys (a "name" or
// "comment" beside a token) are ignored. A token shorter than MinTokenLen
// is accepted with a warning on log. Errors name the entry but never the
// token.
func LoadTokens(path string, log *slog.Logger) (*Tokens, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read tokens file: %w", err)
	}
	var f tokenFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("tokens file %s is not {\"tokens\": [{\"token\": …, \"role\": …}]}: %w", path, err)
	}
	if len(f.Tokens) == 0 {
		return nil, fmt.Errorf("tokens file %s lists no tokens under \"tokens\"", path)
	}
	t := &Tokens{}
	seen := map[[32]byte]bool{}
	for i, e := range f.Tokens {
		if e.Token == "" {
			return nil, fmt.Errorf("tokens file %s: entry %d has no token", path, i)
		}
		if len(e.Token) < MinTokenLen {
			log.Warn("a short token is easy to guess; use at least 16 random characters (openssl rand -hex 24)",
				"file", path, "entry", i, "role", e.Role)
		}
		p, err := ParseRole(e.Role)
		if err != nil {
			return nil, fmt.Errorf("tokens file %s: entry %d: %w", path, i, err)
		}
		h := sha256.Sum256([]byte(e.Token))
		if seen[h] {
			return nil, fmt.Errorf("tokens file %s: entry %d repeats an earlier token", path, i)
		}
		seen[h] = true
		t.entries = append(t.entries, newTokenEntry(h, p))
	}
	return t, nil
}

// NewTokens builds a token table from token → role (tests and tools).
func NewTokens(roles map[string]string) (*Tokens, error) {
	t := &Tokens{}
	for tok, role := range roles {
		p, err := ParseRole(role)
		if err != nil {
			return nil, err
		}
		t.entries = append(t.entries, newTokenEntry(sha256.Sum256([]byte(tok)), p))
	}
	return t, nil
}

// ParseRole reads "admin", "clearing" or "institution:<id>".
func ParseRole(s string) (Principal, error) {
	switch {
	case s == "admin":
		return Principal{Role: RoleAdmin}, nil
	case s == "clearing":
		return Principal{Role: RoleClearing}, nil
	case strings.HasPrefix(s, "institution:") && len(s) > len("institution:"):
		return Principal{Role: RoleInstitution, Institution: strings.TrimPrefix(s, "institution:")}, nil
	}
	return Principal{}, fmt.Errorf("role %q is not admin, clearing or institution:<id>", s)
}

// Open reports whether no tokens are configured (every caller is admin).
func (t *Tokens) Open() bool { return t == nil || len(t.entries) == 0 }

// authenticate finds the principal of the request's bearer token.
func (t *Tokens) authenticate(ctx context.Context) (Principal, error) {
	if t.Open() {
		return openEntry.principal, nil
	}
	e, err := t.find(metadata.ValueFromIncomingContext(ctx, "authorization"))
	if err != nil {
		return Principal{}, err
	}
	return e.principal, nil
}

// entryMD finds the entry of the bearer token in a call's headers
// (openEntry in open mode).
func (t *Tokens) entryMD(md metadata.MD) (*tokenEntry, error) {
	if t.Open() {
		return openEntry, nil
	}
	return t.find(md.Get("authorization"))
}

// find finds the entry of the bearer token in the values of a call's
// authorization header.
func (t *Tokens) find(vals []string) (*tokenEntry, error) {
	if len(vals) != 1 {
		return nil, status.Error(codes.Unauthenticated, "send one header \"authorization: Bearer <token>\"")
	}
	// The scheme is case-insensitive (RFC 7235): "Bearer", "bearer".
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil, status.Error(codes.Unauthenticated, "the authorization header must be \"Bearer <token>\"")
	}
	e := t.lookupEntry(tok)
	if e == nil {
		return nil, status.Error(codes.Unauthenticated, "unknown token")
	}
	return e, nil
}

// lookup finds the principal of a token, comparing it with every entry in
// constant time.
func (t *Tokens) lookup(tok string) (Principal, bool) {
	e := t.lookupEntry(tok)
	if e == nil {
		return Principal{}, false
	}
	return e.principal, true
}

// lookupEntry finds the entry of a token (nil if none), comparing it with
// every entry in constant time.
func (t *Tokens) lookupEntry(tok string) *tokenEntry {
	h := sha256.Sum256([]byte(tok))
	found := -1
	for i := range t.entries {
		if subtle.ConstantTimeCompare(h[:], t.entries[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return nil
	}
	return &t.entries[found]
}

type principalKey struct{}

// principalFrom returns the caller of a request (admin in open mode).
func principalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

// publicService is served without credentials: health checks and
// reflection, so that load balancers, grpcurl and ghz can discover the API.
func publicService(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.")
}

// UnaryAuth authenticates unary calls.
func (t *Tokens) UnaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if publicService(info.FullMethod) || tapAuthenticated(ctx) {
		return handler(ctx, req)
	}
	p, err := t.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	return handler(context.WithValue(ctx, principalKey{}, p), req)
}

// StreamAuth authenticates streaming calls.
func (t *Tokens) StreamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if publicService(info.FullMethod) || tapAuthenticated(ss.Context()) {
		return handler(srv, ss)
	}
	p, err := t.authenticate(ss.Context())
	if err != nil {
		return err
	}
	return handler(srv, &principalStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), principalKey{}, p)})
}

type principalStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *principalStream) Context() context.Context { return s.ctx }

// requireAdmin allows administrators only.
func requireAdmin(ctx context.Context) error {
	if principalFrom(ctx).Role == RoleAdmin {
		return nil
	}
	return status.Error(codes.PermissionDenied, "this call needs the admin role")
}

// requireReader allows every authenticated role.
func requireReader(ctx context.Context) error {
	if principalFrom(ctx).Role != 0 {
		return nil
	}
	return status.Error(codes.Unauthenticated, "no credentials")
}

// requireReaderOf allows reading what belongs to institution: every role
// but another institution's.
func requireReaderOf(ctx context.Context, institution string) error {
	if principalFrom(ctx).Role == RoleInstitution {
		return requireInstitution(ctx, institution)
	}
	return requireReader(ctx)
}

// requireInstitution allows administrators and the institution itself.
func requireInstitution(ctx context.Context, institution string) error {
	p := principalFrom(ctx)
	switch {
	case p.Role == RoleAdmin:
		return nil
	case p.Role == RoleInstitution && p.Institution == institution:
		return nil
	case p.Role == RoleInstitution:
		return status.Errorf(codes.PermissionDenied, "credentials of institution %q cannot act for institution %q", p.Institution, institution)
	}
	return status.Error(codes.PermissionDenied, "this call needs an institution or admin role")
}

// requireClearing allows the clearing and admin roles (ClearingService).
func requireClearing(ctx context.Context) error {
	switch principalFrom(ctx).Role {
	case RoleClearing, RoleAdmin:
		return nil
	}
	return status.Error(codes.PermissionDenied, "this call needs the clearing or admin role")
}

// requireClearingOrOwn allows the clearing and admin roles, and the
// institution itself: an institution reads its own statement and
// reconciles its own figures.
func requireClearingOrOwn(ctx context.Context, institution string) error {
	p := principalFrom(ctx)
	switch {
	case p.Role == RoleClearing || p.Role == RoleAdmin:
		return nil
	case p.Role == RoleInstitution && p.Institution == institution:
		return nil
	case p.Role == RoleInstitution:
		return status.Errorf(codes.PermissionDenied, "credentials of institution %q cannot read institution %q's clearing", p.Institution, institution)
	}
	return status.Error(codes.PermissionDenied, "this call needs the clearing, admin or institution role")
}
