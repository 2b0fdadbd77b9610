package national

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// The signature headers (GATEWAY.md "Authentication").
const (
	hdrTifPaasid    = "x-tif-paasid"
	hdrTifTimestamp = "x-tif-timestamp"
	hdrTifNonce     = "x-tif-nonce"
	hdrTifSignature = "x-tif-signature"

	hdrCSBName      = "_api_name"
	hdrCSBVersion   = "_api_version"
	hdrCSBAccessKey = "_api_access_key"
	hdrCSBTimestamp = "_api_timestamp"
	hdrCSBSignature = "_api_signature"
)

// maxHeaderValue is the longest signature header value read, in bytes.
const maxHeaderValue = 128

// authFailure is why a request's credentials are refused: answered HTTP
// 401 with Msg as err_msg (or HTTP 503 when busy).
type authFailure struct {
	Msg  string
	busy bool
}

// Error implements error.
func (a *authFailure) Error() string { return a.Msg }

func unauthorized(msg string) *authFailure { return &authFailure{Msg: msg} }

// canonicalHeaders are the signature headers' keys in an http.Header
// (http.CanonicalHeaderKey, computed once rather than on every read).
var canonicalHeaders = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{hdrTifPaasid, hdrTifTimestamp, hdrTifNonce, hdrTifSignature,
		hdrCSBName, hdrCSBVersion, hdrCSBAccessKey, hdrCSBTimestamp, hdrCSBSignature} {
		m[n] = http.CanonicalHeaderKey(n)
	}
	return m
}()

// header reads one signature header: present once, at most
// maxHeaderValue bytes of printable ASCII.
func header(h http.Header, name string) (string, *authFailure) {
	key, ok := canonicalHeaders[name]
	if !ok {
		key = http.CanonicalHeaderKey(name)
	}
	vals := h[key] // h.Values(name), without canonicalizing name each time
	switch {
	case len(vals) == 0 || vals[0] == "":
		return "", unauthorized("缺少请求头 " + name + "：请按签名规则填写")
	case len(vals) > 1:
		return "", unauthorized("请求头 " + name + " 出现多次：只能有一个")
	case len(vals[0]) > maxHeaderValue:
		return "", unauthorized("请求头 " + name + " 超过 " + strconv.Itoa(maxHeaderValue) + " 字节")
	}
	for i := 0; i < len(vals[0]); i++ {
		if c := vals[0][i]; c < 0x21 || c > 0x7e {
			return "", unauthorized("请求头 " + name + " 含有非法字符：只能是可见 ASCII 字符")
		}
	}
	return vals[0], nil
}

// parseTimestamp reads a signature timestamp: Unix seconds, or 13 digits
// of milliseconds.
func parseTimestamp(name, s string) (time.Time, *authFailure) {
	if len(s) > 13 || !digits(s, len(s)) {
		return time.Time{}, unauthorized("请求头 " + name + " 不是时间戳：应为 Unix 秒数（10 位）或毫秒数（13 位）")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, unauthorized("请求头 " + name + " 不是时间戳：应为 Unix 秒数（10 位）或毫秒数（13 位）")
	}
	if len(s) == 13 {
		return time.UnixMilli(n), nil
	}
	return time.Unix(n, 0), nil
}

// checkClock refuses a timestamp more than ClockWindow from now, read to
// the timestamp's own precision (a timestamp in seconds against the
// clock's second).
func checkClock(name, stamp string, ts, now time.Time) *authFailure {
	if len(stamp) == 13 {
		now = now.Truncate(time.Millisecond)
	} else {
		now = now.Truncate(time.Second)
	}
	d := now.Sub(ts)
	if d > ClockWindow || d < -ClockWindow {
		return unauthorized("请求头 " + name + " 与服务器时间相差超过 300 秒：请校准客户端时钟后重新签名")
	}
	return nil
}

// tifSignature is the x-tif signature: lowercase hex of SHA-256(timestamp
// + secret + nonce + timestamp).
func tifSignature(timestamp, secret, nonce string) string {
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write([]byte(secret))
	h.Write([]byte(nonce))
	h.Write([]byte(timestamp))
	return hex.EncodeToString(h.Sum(nil))
}

// tifSignatureHolds reports whether sent is the x-tif signature of
// timestamp, secret and nonce (tifSignature), computed without allocating
// and compared in constant time.
func tifSignatureHolds(sent, timestamp, secret, nonce string) bool {
	var in [256]byte
	b := append(in[:0], timestamp...)
	b = append(b, secret...)
	b = append(b, nonce...)
	b = append(b, timestamp...)
	sum := sha256.Sum256(b)
	var want [2 * sha256.Size]byte
	hex.Encode(want[:], sum[:])
	if len(sent) != len(want) {
		return false
	}
	var diff byte
	for i := range want {
		diff |= sent[i] ^ want[i]
	}
	return diff == 0
}

// replayKey is the replay cache's hash of the parts of a nonce or triple
// joined by NUL (the same hash as replayCache.add of the joined string).
func replayKey(parts ...string) [16]byte {
	var in [256]byte
	b := in[:0]
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	sum := sha256.Sum256(b)
	return [16]byte(sum[:16])
}

// csbSignature is the csb signature: Base64 of HMAC-SHA1(secret, the
// other four _api_* parameters sorted by name, joined k=v&k=v).
func csbSignature(secret, accessKey, name, timestamp, version string) string {
	m := hmac.New(sha1.New, []byte(secret))
	// Sorted by name: _api_access_key < _api_name < _api_timestamp < _api_version.
	m.Write([]byte(hdrCSBAccessKey + "=" + accessKey + "&" + hdrCSBName + "=" + name + "&" +
		hdrCSBTimestamp + "=" + timestamp + "&" + hdrCSBVersion + "=" + version))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// sameSignature compares a signature sent with the one computed in
// constant time.
func sameSignature(sent, want string) bool {
	return subtle.ConstantTimeCompare([]byte(sent), []byte(want)) == 1
}

// authenticated is a request whose signature holds.
type authenticated struct {
	cred *Credential
	// csbStamp is the csb timestamp as sent: with the key and the msgid,
	// the triple checked against replay once the envelope is accepted.
	csbStamp string
}

// authenticate checks a request's signature headers, before its body is
// read: the credential of the key, the timestamp within ClockWindow, the
// signature, and (x-tif) the nonce not seen within ReplayWindow.
func (g *Gateway) authenticate(h http.Header, now time.Time) (authenticated, *authFailure) {
	if g.cfg.Scheme == SchemeCSB {
		return g.authenticateCSB(h, now)
	}
	return g.authenticateTif(h, now)
}

func (g *Gateway) authenticateTif(h http.Header, now time.Time) (authenticated, *authFailure) {
	var vals [4]string
	for i, name := range []string{hdrTifPaasid, hdrTifTimestamp, hdrTifNonce, hdrTifSignature} {
		v, f := header(h, name)
		if f != nil {
			return authenticated{}, f
		}
		vals[i] = v
	}
	key, stamp, nonce, sig := vals[0], vals[1], vals[2], vals[3]
	cred := g.byKey[key]
	if cred == nil {
		return authenticated{}, unauthorized("请求头 x-tif-paasid 未登记：请使用医保部门分配的 paasid")
	}
	ts, f := parseTimestamp(hdrTifTimestamp, stamp)
	if f != nil {
		return authenticated{}, f
	}
	if f := checkClock(hdrTifTimestamp, stamp, ts, now); f != nil {
		return authenticated{}, f
	}
	if !tifSignatureHolds(sig, stamp, cred.Secret, nonce) {
		return authenticated{}, unauthorized("签名不符（x-tif-signature）：应为 SHA-256(timestamp+密钥+nonce+timestamp) 的小写十六进制")
	}
	switch g.replay.addHash(now, replayKey("x-tif", key, nonce)) {
	case replaySeen:
		return authenticated{}, unauthorized("请求头 x-tif-nonce 在 10 分钟内已使用过：每个请求须使用新的 nonce")
	case replayFull:
		return authenticated{}, g.replayFull(now)
	}
	return authenticated{cred: cred}, nil
}

func (g *Gateway) authenticateCSB(h http.Header, now time.Time) (authenticated, *authFailure) {
	var vals [5]string
	for i, name := range []string{hdrCSBAccessKey, hdrCSBName, hdrCSBTimestamp, hdrCSBVersion, hdrCSBSignature} {
		v, f := header(h, name)
		if f != nil {
			return authenticated{}, f
		}
		vals[i] = v
	}
	key, name, stamp, version, sig := vals[0], vals[1], vals[2], vals[3], vals[4]
	cred := g.byKey[key]
	if cred == nil {
		return authenticated{}, unauthorized("请求头 _api_access_key 未登记：请使用医保部门分配的 access key")
	}
	ts, f := parseTimestamp(hdrCSBTimestamp, stamp)
	if f != nil {
		return authenticated{}, f
	}
	if f := checkClock(hdrCSBTimestamp, stamp, ts, now); f != nil {
		return authenticated{}, f
	}
	if !sameSignature(sig, csbSignature(cred.Secret, key, name, stamp, version)) {
		return authenticated{}, unauthorized("签名不符（_api_signature）：应为 Base64(HMAC-SHA1(密钥, 其余 _api_* 参数按名排序后 k=v&k=v 连接))")
	}
	return authenticated{cred: cred, csbStamp: stamp}, nil
}

// checkCSBReplay refuses a csb request whose (access key, timestamp,
// msgid) was seen within ReplayWindow, and records it otherwise. It is
// called once the envelope is accepted for processing (ServeHTTP), so that
// a request refused for its envelope does not burn its triple.
func (g *Gateway) checkCSBReplay(a authenticated, msgid string, now time.Time) *authFailure {
	if g.cfg.Scheme != SchemeCSB {
		return nil
	}
	switch g.replay.addHash(now, replayKey("csb", a.cred.Key, a.csbStamp, msgid)) {
	case replaySeen:
		return unauthorized("重复的请求：同一 _api_access_key、_api_timestamp 与 msgid 在 10 分钟内已收到过；新请求须重新签名")
	case replayFull:
		return g.replayFull(now)
	}
	return nil
}

// replayFull is the answer to a request the replay cache had no room for
// (HTTP 503), and tells the operator, at most once a minute, how to make
// room.
func (g *Gateway) replayFull(now time.Time) *authFailure {
	last := g.fullWarned.Load()
	if now.UnixNano()-last >= int64(time.Minute) && g.fullWarned.CompareAndSwap(last, now.UnixNano()) {
		g.log.Warn("national gateway: the replay cache is full, requests are answered 系统繁忙 (HTTP 503) until its oldest minute expires; raise replay_capacity in --national-config (requests per second × 600)",
			"capacity", g.replay.capacity)
	}
	return &authFailure{Msg: "系统繁忙，请稍后重试（近 10 分钟请求过多）", busy: true}
}
