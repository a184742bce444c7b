package journal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// redactor hides credentials and secrets. A redacted value reads
// "[redacted:1a2b3c4d]": the first 4 bytes of an HMAC-SHA256 keyed per
// journal, so that two requests with the same token can be told apart from
// two with different tokens, while the hash cannot be checked against a
// guessed password outside the process.
type redactor struct{ key []byte }

func (r redactor) hash(v string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(v))
	return "[redacted:" + hex.EncodeToString(m.Sum(nil)[:4]) + "]"
}

// credentialHeaders carry a credential in their whole value.
var credentialHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true,
}

// sensitiveName says whether a header, form, query or JSON member name
// holds a secret: client_secret, password, user_password, access_token,
// refresh_token, id_token, assertion, client_assertion, code,
// code_verifier, connectorSecret, X-Api-Key and the like.
func sensitiveName(name string) bool {
	n := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return -1
	}, name)
	switch n {
	case "assertion", "clientassertion", "code", "codeverifier", "apikey", "xapikey", "sessionstate":
		return true
	}
	return strings.Contains(n, "secret") || strings.Contains(n, "password") || strings.HasSuffix(n, "token")
}

func (r redactor) headers(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for name, vals := range h {
		red := make([]string, len(vals))
		for i, v := range vals {
			switch {
			case credentialHeaders[name]:
				red[i] = r.credential(v)
			case name == "Cookie":
				red[i] = r.cookies(v)
			case name == "Set-Cookie":
				red[i] = r.setCookie(v)
			case sensitiveName(name):
				red[i] = r.hash(v)
			default:
				red[i] = r.text(v)
			}
		}
		out[name] = red
	}
	return out
}

// credential keeps the scheme of an Authorization value and, for a JWT
// bearer token, the claims that explain a refusal (never the signature).
func (r redactor) credential(v string) string {
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok {
		return r.hash(v)
	}
	out := scheme + " " + r.hash(cred)
	if strings.EqualFold(scheme, "Bearer") {
		if claims := jwtSummary(cred); claims != "" {
			out += " " + claims
		}
	}
	return out
}

func (r redactor) cookies(v string) string {
	parts := strings.Split(v, ";")
	for i, p := range parts {
		name, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok {
			parts[i] = name + "=" + r.hash(val)
		}
	}
	return strings.Join(parts, "; ")
}

func (r redactor) setCookie(v string) string {
	first, rest, _ := strings.Cut(v, ";")
	if name, val, ok := strings.Cut(first, "="); ok {
		first = name + "=" + r.hash(val)
	}
	if rest == "" {
		return first
	}
	return first + ";" + rest
}

// query redacts sensitive parameters of a request URI, keeping order.
func (r redactor) query(uri string) string {
	path, q, ok := strings.Cut(uri, "?")
	if !ok {
		return uri
	}
	return path + "?" + r.pairs(q)
}

// pairs redacts an application/x-www-form-urlencoded string in place.
func (r redactor) pairs(s string) string {
	parts := strings.Split(s, "&")
	for i, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if sensitiveName(name) {
			val, err := url.QueryUnescape(v)
			if err != nil {
				val = v
			}
			parts[i] = k + "=" + url.QueryEscape(r.hash(val))
		}
	}
	return strings.Join(parts, "&")
}

var (
	// jsonSecret is a JSON member with a string value; the name decides.
	jsonSecret = regexp.MustCompile(`"([A-Za-z0-9_.\-]{1,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)"`)
	// jwtLike catches a token wherever it sits (HTML, text, a JSON member
	// with an innocent name).
	jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
)

// body renders a captured body as text with secrets redacted.
func (r redactor) body(contentType string, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if !utf8.Valid(b) && !utf8.Valid(b[:max(0, len(b)-utf8.UTFMax)]) {
		if mt == "" {
			mt = "unknown type"
		}
		return fmt.Sprintf("(%d bytes of %s, not text)", len(b), mt)
	}
	s := strings.ToValidUTF8(string(b), "")
	switch {
	case mt == "application/x-www-form-urlencoded":
		s = r.pairs(s)
	case strings.Contains(mt, "json") || strings.HasPrefix(strings.TrimSpace(s), "{"):
		s = jsonSecret.ReplaceAllStringFunc(s, func(m string) string {
			g := jsonSecret.FindStringSubmatch(m)
			if !sensitiveName(g[1]) || g[3] == "" {
				return m
			}
			return `"` + g[1] + `"` + g[2] + `"` + r.hash(g[3]) + `"`
		})
	}
	return r.text(s)
}

// text redacts tokens found in free text.
func (r redactor) text(s string) string {
	if !strings.Contains(s, "eyJ") {
		return s
	}
	return jwtLike.ReplaceAllStringFunc(s, func(t string) string {
		out := r.hash(t)
		if c := jwtSummary(t); c != "" {
			out += " " + c
		}
		return out
	})
}

// jwtSummary lists the claims of a JWT that explain why a party refused
// it: audience, issuer, tenant, application, scopes and roles, expiry. The
// token is a credential; its claims alone are not.
func jwtSummary(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims map[string]any
	if json.Unmarshal(raw, &claims) != nil {
		return ""
	}
	var out []string
	for _, k := range []string{"aud", "iss", "tid", "appid", "azp", "scp", "roles", "sub", "exp"} {
		v, ok := claims[k]
		if !ok {
			continue
		}
		if k == "exp" {
			if f, ok := v.(float64); ok {
				v = time.Unix(int64(f), 0).UTC().Format(time.RFC3339)
			}
		}
		out = append(out, fmt.Sprintf("%s=%v", k, v))
	}
	if len(out) == 0 {
		return ""
	}
	return "(JWT " + strings.Join(out, " ") + ")"
}
