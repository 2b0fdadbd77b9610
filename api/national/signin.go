package national

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"math/big"
	"time"
	"unicode/utf8"
)

func init() { register("9001", signIn) }

// maxSignInField is the longest opter_no, mac or ip, in characters.
const maxSignInField = 64

// signInInput is 9001's input.
type signInInput struct {
	SignIn *struct {
		OpterNo text `json:"opter_no"`
		Mac     text `json:"mac"`
		IP      text `json:"ip"`
	} `json:"signIn"`
}

// signInOutput is 9001's output.
type signInOutput struct {
	Signinoutb signinoutb `json:"signinoutb"`
}

type signinoutb struct {
	SignTime string `json:"sign_time"`
	SignNo   string `json:"sign_no"`
}

// signIn is 9001 (签到): an operator signs in and gets a sign_no, which the
// audit event of the request keeps (its result id). Later requests may
// carry it in the envelope's sign_no; the gateway does not require it
// (the signature authenticates every request).
func signIn(_ context.Context, _ *Gateway, c *Call, input json.RawMessage) (any, error) {
	var in signInInput
	if err := decodeInput(input, &in); err != nil {
		return nil, err
	}
	if in.SignIn == nil {
		return nil, refuse("缺少 input.signIn：请传入 signIn{opter_no, mac, ip}")
	}
	if err := requireID("signIn.opter_no", in.SignIn.OpterNo); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name  string
		value text
	}{{"signIn.opter_no", in.SignIn.OpterNo}, {"signIn.mac", in.SignIn.Mac}, {"signIn.ip", in.SignIn.IP}} {
		if n := utf8.RuneCountInString(string(f.value)); n > maxSignInField {
			return nil, refuse("%s 长 %d 个字符，超过 %d：请核对", f.name, n, maxSignInField)
		}
	}
	no, err := signNo(c.Now)
	if err != nil {
		return nil, err
	}
	c.AuditResult(no)
	return signInOutput{Signinoutb: signinoutb{SignTime: c.Now.In(shanghai).Format(time.DateTime), SignNo: no}}, nil
}

// signNo is a new sign-in number: the Asia/Shanghai time to the second
// and 16 random digits (30 digits in all).
func signNo(now time.Time) (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1e16))
	if err != nil {
		return "", err
	}
	s := n.String()
	b := now.In(shanghai).AppendFormat(make([]byte, 0, 30), "20060102150405")
	for range 16 - len(s) {
		b = append(b, '0')
	}
	return string(append(b, s...)), nil
}
