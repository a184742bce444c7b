package fakeaad

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// clientAssertionType is the only client_assertion_type Entra takes
// (RFC 7523 §2.2).
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// KeyCredential is a certificate registered on an app registration
// (keyCredentials in Graph); the app signs client assertions with its key.
type KeyCredential struct {
	KeyID        string
	DisplayName  string
	Cert         *x509.Certificate
	Start, End   time.Time
	sha1, sha256 []byte
}

// KeyCredentialFixture is a certificate credential in a fixture.
type KeyCredentialFixture struct {
	KeyID       string `yaml:"keyId,omitempty"`
	DisplayName string `yaml:"displayName,omitempty"`
	// Certificate is PEM ("-----BEGIN CERTIFICATE-----") or base64 DER,
	// as Graph's keyCredential.key carries it.
	Certificate string `yaml:"certificate"`
	Start       string `yaml:"startDateTime,omitempty"` // default: the certificate's NotBefore
	End         string `yaml:"endDateTime,omitempty"`   // default: the certificate's NotAfter
}

func (kf KeyCredentialFixture) build(appID string) (*KeyCredential, error) {
	der := []byte(nil)
	if b, _ := pem.Decode([]byte(kf.Certificate)); b != nil {
		der = b.Bytes
	} else if d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(kf.Certificate)); err == nil {
		der = d
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certificate must be PEM or base64 DER: %w", err)
	}
	k := newKeyCredential(cert)
	k.DisplayName = kf.DisplayName
	if k.KeyID = kf.KeyID; k.KeyID == "" {
		k.KeyID = uuid.NewSHA1(uuid.MustParse(appID), k.sha1).String()
	}
	if k.Start, err = parseTime(kf.Start, cert.NotBefore.UTC()); err != nil {
		return nil, err
	}
	if k.End, err = parseTime(kf.End, cert.NotAfter.UTC()); err != nil {
		return nil, err
	}
	return k, nil
}

func newKeyCredential(cert *x509.Certificate) *KeyCredential {
	s1, s256 := sha1.Sum(cert.Raw), sha256.Sum256(cert.Raw)
	return &KeyCredential{Cert: cert, Start: cert.NotBefore.UTC(), End: cert.NotAfter.UTC(), sha1: s1[:], sha256: s256[:]}
}

func (k *KeyCredential) fixture() KeyCredentialFixture {
	return KeyCredentialFixture{KeyID: k.KeyID, DisplayName: k.DisplayName,
		Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Cert.Raw})),
		Start:       k.Start.Format(time.RFC3339), End: k.End.Format(time.RFC3339)}
}

// decodeThumbprint reads an x5t or x5t#S256 header value. Clients disagree
// on the alphabet: MSAL Go sends standard base64 with padding, MSAL Python
// URL-safe base64 with padding, RFC 7515 says URL-safe without.
func decodeThumbprint(v string) []byte {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			return b
		}
	}
	return nil
}

// checkClientAssertion authenticates a confidential client by a signed JWT
// (certificate credentials, reference/aad.md §1.3): the header names a
// certificate registered on the app by x5t#S256 or x5t; the signature is
// RS256 or PS256; iss and sub are the client id; aud is this tenant's
// token endpoint; the assertion is inside nbf..exp by the fake's clock;
// a jti is accepted once. audiences are the token endpoint URLs it may
// name.
func (s *Server) checkClientAssertion(app *Application, assertion string, audiences []string) *stsError {
	now := s.clock.Now()
	var thumb []byte
	var key *KeyCredential
	tok, err := jwt.Parse(assertion, func(t *jwt.Token) (any, error) {
		if v, ok := t.Header["x5t#S256"].(string); ok {
			thumb = decodeThumbprint(v)
		} else if v, ok := t.Header["x5t"].(string); ok {
			thumb = decodeThumbprint(v)
		}
		for _, k := range app.KeyCredentials {
			if len(thumb) > 0 && (bytes.Equal(thumb, k.sha256) || bytes.Equal(thumb, k.sha1)) {
				key = k
				return k.Cert.PublicKey, nil
			}
		}
		return nil, errUnknownAssertionKey
	}, jwt.WithValidMethods([]string{"RS256", "PS256"}), jwt.WithoutClaimsValidation())
	switch {
	case errors.Is(err, errUnknownAssertionKey):
		return errAssertionUnknownKey(strings.ToUpper(hex.EncodeToString(thumb)))
	case errors.Is(err, jwt.ErrTokenMalformed):
		return errAssertionInvalid("The client assertion is not a JWT.")
	case err != nil:
		return errAssertionSignature()
	}
	if now.Before(key.Start) || now.After(key.End) {
		return errAssertionUnknownKey(strings.ToUpper(hex.EncodeToString(key.sha1)))
	}
	claims := tok.Claims.(jwt.MapClaims)
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	switch {
	case iss != sub:
		return errAssertionSubject()
	case !strings.EqualFold(iss, app.AppID):
		return errAssertionInvalid(fmt.Sprintf("The issuer '%s' of the client assertion is not the client id '%s'.", iss, app.AppID))
	}
	auds, _ := claims.GetAudience()
	if !audienceMatches(auds, audiences) {
		return errAssertionInvalid(fmt.Sprintf("The audience '%s' of the client assertion is not this tenant's token endpoint.", strings.Join(auds, ",")))
	}
	exp, _ := claims.GetExpirationTime()
	if exp == nil {
		return errAssertionInvalid("The client assertion has no exp claim.")
	}
	nbf, _ := claims.GetNotBefore()
	from := time.Time{}
	if nbf != nil {
		from = nbf.Time
	}
	// Entra tolerates five minutes of clock skew either way.
	if now.After(exp.Time.Add(5*time.Minute)) || now.Add(5*time.Minute).Before(from) {
		return errAssertionTime(now, from, exp.Time)
	}
	if jti, _ := claims["jti"].(string); jti != "" && !s.flows.useJTI(app.AppID+"|"+jti, exp.Time.Add(5*time.Minute), now) {
		return errAssertionReplayed()
	}
	return nil
}

var errUnknownAssertionKey = errors.New("no key credential matches the assertion's thumbprint")

// audienceMatches compares by path, ignoring the host: behind host mapping
// the same endpoint is named by login.microsoftonline.com and by the
// fake's listen address.
func audienceMatches(got, want []string) bool {
	for _, g := range got {
		gu, err := url.Parse(g)
		if err != nil {
			continue
		}
		for _, w := range want {
			if wu, err := url.Parse(w); err == nil && strings.EqualFold(strings.TrimRight(gu.Path, "/"), strings.TrimRight(wu.Path, "/")) {
				return true
			}
		}
	}
	return false
}
