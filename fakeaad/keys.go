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
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	Kid    string   `json:"kid"`
	X5t    string   `json:"x5t"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X5c    []string `json:"x5c"`
	Issuer string   `json:"issuer,omitempty"`
}

func (k *SigningKey) jwk(issuer string) jwk {
	return jwk{
		Kty:    "RSA",
		Use:    "sig",
		Kid:    k.KID,
		X5t:    k.KID,
		N:      base64.RawURLEncoding.EncodeToString(k.Private.N.Bytes()),
		E:      base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.Private.E)).Bytes()),
		X5c:    []string{base64.StdEncoding.EncodeToString(k.Cert.Raw)},
		Issuer: issuer,
	}
}

// keySet is the published keys, the last one signing. It is immutable: a
// rotation builds a new set, so readers need no lock beyond the pointer swap.
type keySet struct {
	keys   []*SigningKey
	byKID  map[string]*SigningKey
	jwksV1 []byte // /discovery/keys: no issuer field (as the captured v1 set)
	jwksV2 []byte // /discovery/v2.0/keys: issuer template per key
}

func newKeySet(keys []*SigningKey, publicURL string) (*keySet, error) {
	if len(keys) == 0 {
		return nil, errors.New("a key set needs at least one key")
	}
	ks := &keySet{keys: keys, byKID: map[string]*SigningKey{}}
	var v1, v2 []jwk
	for _, k := range keys {
		if _, dup := ks.byKID[k.KID]; dup {
			return nil, fmt.Errorf("signing key %s published twice", k.KID)
		}
		ks.byKID[k.KID] = k
		v1 = append(v1, k.jwk(""))
		v2 = append(v2, k.jwk(publicURL+"/{tenantid}/v2.0"))
	}
	var err error
	if ks.jwksV1, err = json.Marshal(map[string]any{"keys": v1}); err != nil {
		return nil, err
	}
	if ks.jwksV2, err = json.Marshal(map[string]any{"keys": v2}); err != nil {
		return nil, err
	}
	return ks, nil
}

func (ks *keySet) active() *SigningKey { return ks.keys[len(ks.keys)-1] }

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
