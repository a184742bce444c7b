package oidckeys

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultSkew is the clock skew every party tolerates on exp and nbf unless
// its own configuration says otherwise: 300 s, Microsoft.IdentityModel's
// TokenValidationParameters.DefaultClockSkew (what Microsoft Graph and the
// support connector validate with) and the default clock_skew of a
// ServiceNow OAuth OIDC entity (reference/servicenow.md §4.3).
// https://learn.microsoft.com/dotnet/api/microsoft.identitymodel.tokens.tokenvalidationparameters.defaultclockskew
const DefaultSkew = 5 * time.Minute

// RefreshInterval is the least time between two key-set refetches caused by
// an unknown kid. Microsoft.IdentityModel's ConfigurationManager honours the
// first RequestRefresh() at once and later ones only after RefreshInterval
// (DefaultRefreshInterval, 5 minutes) has passed; JwtBearer calls it when a
// token's kid is not in the cached keys. Without the bound every forged
// token with a made-up kid cost an outbound request (and, in fakesnow, a
// sys_outbound_http_log row), so a flood of them pushed genuine log rows out.
// https://learn.microsoft.com/dotnet/api/microsoft.identitymodel.protocols.configurationmanager-1.defaultrefreshinterval
// (panva/jose's createRemoteJWKSet does the same with a 30 s cooldown.)
const RefreshInterval = 5 * time.Minute

// Want is what a token must satisfy once its signing key is known: the
// checks all three parties share, whether the key comes from a fetched JWKS
// (fakesnow, fakem365) or from the issuer's own key set (Microsoft Graph in
// fakeaad).
type Want struct {
	// Issuer is the exact iss the token must carry.
	Issuer string
	// Audiences lists acceptable aud values; the token must carry one.
	Audiences []string
	// Skew tolerates clocks that disagree by this much on exp and nbf.
	Skew time.Duration
}

// KeyFunc returns the RSA public key a token's kid names.
type KeyFunc func(kid string) (*rsa.PublicKey, error)

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// parseHeader reads the JOSE header and refuses every algorithm but RS256,
// so "none" and HMAC tokens (including one keyed with the public key) fail
// before any key is looked up or fetched.
func parseHeader(raw string) (header, *Failure) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return header{}, fail(CheckMalformed, "a JWT has three dot-separated parts, this has %d", len(parts))
	}
	var h header
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &h) != nil {
		return header{}, fail(CheckMalformed, "the header is not base64url JSON")
	}
	if h.Alg != "RS256" {
		return header{}, fail(CheckAlgorithm, "alg %q is not accepted (RS256 only)", h.Alg)
	}
	return h, nil
}

// VerifyWith checks raw in the order every party uses: shape, algorithm
// (RS256 only), signing key, signature, issuer, audience, then lifetime at
// now. A failure is a *Failure naming the check.
func VerifyWith(raw string, keyFor KeyFunc, w Want, now time.Time) (jwt.MapClaims, error) {
	h, f := parseHeader(raw)
	if f != nil {
		return nil, f
	}
	key, err := keyFor(h.Kid)
	if err != nil {
		var kf *Failure
		if errors.As(err, &kf) {
			return nil, kf
		}
		return nil, fail(CheckKey, "%v", err)
	}
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if _, err := parser.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return key, nil }); err != nil {
		if errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			return nil, fail(CheckSignature, "the signature does not verify with key %q", h.Kid)
		}
		return nil, fail(CheckMalformed, "%v", err)
	}
	if iss, _ := claims["iss"].(string); iss != w.Issuer {
		return nil, fail(CheckIssuer, "iss %q is not %q", iss, w.Issuer)
	}
	auds, _ := claims.GetAudience()
	if !slices.ContainsFunc(auds, func(a string) bool { return slices.Contains(w.Audiences, a) }) {
		return nil, fail(CheckAudience, "aud %q is not one of %q", strings.Join(auds, ","), w.Audiences)
	}
	if err := CheckLifetime(claims, now, w.Skew); err != nil {
		return nil, err
	}
	return claims, nil
}

// CheckLifetime applies the lifetime rules every party shares: exp is
// required and a token is expired once now is later than exp+skew; nbf is
// optional and a token is not yet valid while now+skew is earlier than nbf.
// The skew works the same way on both ends, as in Microsoft.IdentityModel's
// Validators.ValidateLifetime.
func CheckLifetime(claims jwt.MapClaims, now time.Time, skew time.Duration) *Failure {
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return fail(CheckExpiry, "the token has no valid exp")
	}
	if now.After(exp.Add(skew)) {
		return fail(CheckExpiry, "expired at %s (now %s)", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	nbf, err := claims.GetNotBefore()
	if err != nil {
		return fail(CheckNotBefore, "the token's nbf is not a number")
	}
	if nbf != nil && now.Add(skew).Before(nbf.Time) {
		return fail(CheckNotBefore, "not valid before %s (now %s)", nbf.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}
