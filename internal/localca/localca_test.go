package localca

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The CA is kept: a second Open of the same directory signs with the same
// key, so a build that trusts ca.pem keeps working across restarts.
func TestOpenReusesTheCA(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := b.Leaf("login.microsoftonline.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{Roots: a.Pool(), DNSName: "login.microsoftonline.com"}); err != nil {
		t.Fatalf("a leaf of the reopened CA does not verify against the first: %v", err)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{Roots: a.Pool(), DNSName: "graph.microsoft.com"}); err == nil {
		t.Fatal("a leaf verified for another host name")
	}
	if st, err := os.Stat(filepath.Join(dir, KeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st, err)
	}
}

func TestOpenRefusesABrokenCA(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if _, err := Open(other); err != nil {
		t.Fatal(err)
	}
	// The key of another CA beside this certificate.
	key, _ := os.ReadFile(filepath.Join(other, KeyFile))
	if err := os.WriteFile(filepath.Join(dir, KeyFile), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "is not the key of") {
		t.Fatalf("got %v", err)
	}
	os.Remove(filepath.Join(dir, KeyFile))
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "go together") {
		t.Fatalf("got %v", err)
	}
}
