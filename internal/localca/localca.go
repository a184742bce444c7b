// Package localca is the sandbox's own certificate authority: one CA kept
// in a directory (ca.pem, ca-key.pem) and leaf certificates for the real
// host names of the integration, minted on demand and kept in memory. A
// client that trusts ca.pem then accepts the fakes as
// login.microsoftonline.com or dev12345.service-now.com, and nothing else.
package localca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// File names inside the CA directory.
const (
	CertFile = "ca.pem"
	KeyFile  = "ca-key.pem"
)

// ErrUnwritable wraps the error of a CA directory that cannot be made or
// written; a caller may then keep a CA in memory instead (New).
var ErrUnwritable = errors.New("the CA directory cannot be written")

// CA signs leaf certificates. It is safe for concurrent use.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// CertPath is the PEM file clients trust (empty for an in-memory CA).
	CertPath string
	PEM      []byte

	mu     sync.Mutex
	leaves map[string]*tls.Certificate
}

// Open loads the CA kept in dir, or makes one there when dir holds none.
// Reusing it across restarts keeps clients that trust ca.pem working.
func Open(dir string) (*CA, error) {
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	if certErr == nil && keyErr == nil {
		ca, err := parse(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("CA in %s: %w (delete the directory to make a new one)", dir, err)
		}
		ca.CertPath = certPath
		return ca, nil
	}
	if certErr == nil || keyErr == nil {
		return nil, fmt.Errorf("CA in %s: %s and %s go together; one is missing", dir, CertFile, KeyFile)
	}
	ca, keyDER, err := generate()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnwritable, err)
	}
	if err := errors.Join(
		os.WriteFile(certPath, ca.PEM, 0o644),
		os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600),
	); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnwritable, err)
	}
	ca.CertPath = certPath
	return ca, nil
}

// New makes a CA that lives only in memory (tests).
func New() (*CA, error) {
	ca, _, err := generate()
	return ca, err
}

func generate() (*CA, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now().Add(-time.Hour)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "m365snow sandbox CA", Organization: []string{"m365snow"}},
		NotBefore:             now,
		NotAfter:              now.AddDate(5, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	ca, err := parse(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return ca, keyDER, err
}

func parse(certPEM, keyPEM []byte) (*CA, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, errors.New(CertFile + " holds no PEM certificate")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CertFile, err)
	}
	if !cert.IsCA {
		return nil, errors.New(CertFile + " is not a CA certificate")
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, errors.New(KeyFile + " holds no PEM key")
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", KeyFile, err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New(KeyFile + " is not the key of " + CertFile)
	}
	return &CA{cert: cert, key: key, PEM: certPEM, leaves: map[string]*tls.Certificate{}}, nil
}

// Pool is a cert pool holding only this CA, for clients in tests.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// Leaf returns a certificate for host (a DNS name or an IP address), minted
// once and then reused.
func (ca *CA) Leaf(host string) (*tls.Certificate, error) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		return nil, errors.New("localca: no host name")
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if c, ok := ca.leaves[host]; ok {
		return c, nil
	}
	c, err := ca.Issue(host)
	if err != nil {
		return nil, err
	}
	ca.leaves[host] = c
	return c, nil
}

// Issue mints a server certificate for every host given (DNS names or IP
// addresses), its chain ending in the CA.
func (ca *CA) Issue(hosts ...string) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now().Add(-time.Hour)
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		NotBefore:    now,
		// Under 398 days: what browsers and Apple's clients accept for a
		// leaf (CA/Browser Forum baseline requirements, §6.3.2).
		NotAfter:    now.AddDate(0, 0, 397),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
		if tmpl.Subject.CommonName == "" {
			tmpl.Subject.CommonName = h
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	leaf, _ := x509.ParseCertificate(der)
	return &tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}
