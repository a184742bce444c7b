package fakeaad

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"embed"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"
)

// The built-in signing keys are RSA-2048 keys with self-signed certificates
// (CN=accounts.accesscontrol.windows.net, five years, as Entra's own). They
// are public test material: anyone can forge tokens with them, which is the
// point of a fake and the reason a fake must never face real traffic.
//
//go:embed keys/signing-*.pem
var keyFiles embed.FS

// builtinKeys parses the embedded keys once per process. Generating a key
// costs about 0.1 s and parsing one a few milliseconds, so worlds share these
// read-only values instead of paying either per world.
var builtinKeys = sync.OnceValues(func() ([]*SigningKey, error) {
	var out []*SigningKey
	for i := 1; ; i++ {
		b, err := keyFiles.ReadFile(fmt.Sprintf("keys/signing-%d.pem", i))
		if err != nil {
			break
		}
		k, err := ParseSigningKey(b)
		if err != nil {
			return nil, fmt.Errorf("built-in key %d: %w", i, err)
		}
		k.Name = fmt.Sprintf("builtin-%d", i)
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, errors.New("no built-in signing keys embedded")
	}
	return out, nil
})

// SigningKey is an RSA key with its certificate, as Entra publishes them.
type SigningKey struct {
	// Name is "builtin-N" for embedded keys; fixtures refer to keys by it.
	Name    string
	Private *rsa.PrivateKey
	Cert    *x509.Certificate
	// KID is base64url(SHA-1(certificate DER)) without padding; Entra uses
	// the same value as kid and x5t.
	KID string
	pem []byte
}

// ParseSigningKey reads a PEM bundle holding an RSA private key (PKCS#1 or
// PKCS#8) and the certificate of its public key.
func ParseSigningKey(data []byte) (*SigningKey, error) {
	k := &SigningKey{pem: data}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "RSA PRIVATE KEY":
			key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			k.Private = key
		case "PRIVATE KEY":
			key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			rk, ok := key.(*rsa.PrivateKey)
			if !ok {
				return nil, errors.New("signing key must be RSA")
			}
			k.Private = rk
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, err
			}
			k.Cert = c
		}
	}
	if k.Private == nil || k.Cert == nil {
		return nil, errors.New("PEM must hold an RSA private key and its certificate")
	}
	pub, ok := k.Cert.PublicKey.(*rsa.PublicKey)
	if !ok || pub.N.Cmp(k.Private.N) != 0 || pub.E != k.Private.E {
		// go-jose rejects a whole key set when x5c does not match n/e.
		return nil, errors.New("certificate does not belong to the private key")
	}
	sum := sha1.Sum(k.Cert.Raw)
	k.KID = base64.RawURLEncoding.EncodeToString(sum[:])
	return k, nil
}

// jwk is one key as published in a JWKS document.
type jwk struct {
	Kty string   `json:"kty"`
	Use string   `json:"use"`
	Kid string   `json:"kid"`
	X5t string   `json:"x5t"`
	N   string   `json:"n"`
	E   string   `json:"e"`
	X5c []string `json:"x5c"`
	// CloudInstanceName names the cloud on each key, as current Entra key
	// sets do ("microsoftonline.com" for the public cloud).
	CloudInstanceName string `json:"cloud_instance_name"`
	Issuer            string `json:"issuer,omitempty"`
}

func (k *SigningKey) jwk(issuer string) jwk {
	return jwk{
		Kty:               "RSA",
		Use:               "sig",
		Kid:               k.KID,
		X5t:               k.KID,
		N:                 base64.RawURLEncoding.EncodeToString(k.Private.N.Bytes()),
		E:                 base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.Private.E)).Bytes()),
		X5c:               []string{base64.StdEncoding.EncodeToString(k.Cert.Raw)},
		CloudInstanceName: "microsoftonline.com",
		Issuer:            issuer,
	}
}

// keySet is the published keys and the one that signs. Entra always
// publishes more than the signing key: the next key is out before anything
// is signed with it, so relying parties that cache the set for a day
// already know it (access-tokens.md, "Validate the signature"). It is
// immutable: a change builds a new set. A scheduled rollover is part of
// the set and takes effect by the fake's clock, so reading it needs no
// write lock.
type keySet struct {
	keys   []*SigningKey // published, in publication order
	signer *SigningKey
	byKID  map[string]*SigningKey
	roll   *rollover
	jwks   map[bool][2][]byte // [retired?] -> v1, v2 documents
}

// rollover is Entra's scheduled key change: the published next key signs
// from signAt, the old signing key is unpublished at retireAt.
type rollover struct {
	from, to         *SigningKey
	signAt, retireAt time.Time
}

func newKeySet(keys []*SigningKey, signer *SigningKey, roll *rollover, publicURL string) (*keySet, error) {
	if len(keys) == 0 {
		return nil, errors.New("a key set needs at least one key")
	}
	ks := &keySet{keys: keys, signer: signer, roll: roll, byKID: map[string]*SigningKey{}, jwks: map[bool][2][]byte{}}
	for _, k := range keys {
		if _, dup := ks.byKID[k.KID]; dup {
			return nil, fmt.Errorf("signing key %s published twice", k.KID)
		}
		ks.byKID[k.KID] = k
	}
	if ks.byKID[signer.KID] == nil {
		return nil, fmt.Errorf("signing key %s is not published", signer.KID)
	}
	for _, retired := range []bool{false, true} {
		if retired && roll == nil {
			continue
		}
		var v1, v2 []jwk
		for _, k := range keys {
			if retired && k == roll.from {
				continue
			}
			v1 = append(v1, k.jwk(""))
			v2 = append(v2, k.jwk(publicURL+"/{tenantid}/v2.0"))
		}
		b1, err := json.Marshal(map[string]any{"keys": v1})
		if err != nil {
			return nil, err
		}
		b2, err := json.Marshal(map[string]any{"keys": v2})
		if err != nil {
			return nil, err
		}
		ks.jwks[retired] = [2][]byte{b1, b2}
	}
	return ks, nil
}

// active is the key that signs at now.
func (ks *keySet) active(now time.Time) *SigningKey {
	if ks.roll != nil && !now.Before(ks.roll.signAt) {
		return ks.roll.to
	}
	return ks.signer
}

func (ks *keySet) retiredAt(now time.Time) bool {
	return ks.roll != nil && !now.Before(ks.roll.retireAt)
}

// published lists the keys published at now.
func (ks *keySet) published(now time.Time) []*SigningKey {
	if !ks.retiredAt(now) {
		return ks.keys
	}
	var out []*SigningKey
	for _, k := range ks.keys {
		if k != ks.roll.from {
			out = append(out, k)
		}
	}
	return out
}

// document is the JWKS at now, v1 (no issuer) or v2.
func (ks *keySet) document(now time.Time, v2 bool) []byte {
	d := ks.jwks[ks.retiredAt(now)]
	if v2 {
		return d[1]
	}
	return d[0]
}

// verifier is the published key with kid at now, or nil.
func (ks *keySet) verifier(kid string, now time.Time) *SigningKey {
	k := ks.byKID[kid]
	if k != nil && ks.retiredAt(now) && k == ks.roll.from {
		return nil
	}
	return k
}

// resolveKey turns a fixture key reference ("builtin-N" or a PEM bundle)
// into a key.
func resolveKey(ref string) (*SigningKey, error) {
	if strings.HasPrefix(ref, "builtin-") {
		keys, err := builtinKeys()
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			if k.Name == ref {
				return k, nil
			}
		}
		return nil, fmt.Errorf("no built-in signing key %q (there are %d)", ref, len(keys))
	}
	k, err := ParseSigningKey([]byte(ref))
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return k, nil
}

// ref is how a key is written back into an exported fixture.
func (k *SigningKey) ref() string {
	if k.Name != "" {
		return k.Name
	}
	return string(k.pem)
}

// BuiltinSigningKeys returns the embedded keys. They are public test
// material; conformance checks use them to forge tokens that a relying
// party must refuse (wrong issuer, expired, not yet valid) yet that carry
// a signature it can verify.
func BuiltinSigningKeys() ([]*SigningKey, error) { return builtinKeys() }
