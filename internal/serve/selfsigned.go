package serve

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"

	"github.com/m365snow/m365snow/internal/localca"
)

// SelfSigned makes (or reuses) a CA and a server certificate for hosts in
// dir: ca.pem (with ca-key.pem, internal/localca's CA), server.pem and
// server-key.pem. Reusing them across restarts lets clients that trust
// ca.pem keep working.
func SelfSigned(dir string, hosts []string) (certFile, keyFile string, err error) {
	certFile, keyFile = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	if exists(certFile) && exists(keyFile) && exists(filepath.Join(dir, localca.CertFile)) {
		return certFile, keyFile, nil
	}
	ca, err := localca.Open(dir)
	if err != nil {
		return "", "", err
	}
	cert, err := ca.Issue(hosts...)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		return "", "", err
	}
	var chain []byte
	for _, der := range cert.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	if err := errors.Join(
		os.WriteFile(certFile, chain, 0o644),
		os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600),
	); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
