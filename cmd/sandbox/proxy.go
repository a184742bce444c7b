package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/m365snow/m365snow/internal/localca"
	"github.com/m365snow/m365snow/internal/serve"
	"github.com/m365snow/m365snow/world"
)

// proxyInfo is the running forward proxy, as the sandbox prints it.
type proxyInfo struct {
	URL    string // http://127.0.0.1:3128
	CAFile string
	close  func()
}

// defaultCADir keeps the CA across runs, so that a build configured once
// keeps trusting the sandbox.
func defaultCADir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "m365snow", "ca")
}

// openCA opens the sandbox's CA in caDir, or keeps one in memory when the
// directory cannot be written (caFile is then empty).
func openCA(caDir string, log *slog.Logger) (ca *localca.CA, caFile string, err error) {
	ca, err = localca.Open(caDir)
	switch {
	case err == nil:
		return ca, ca.CertPath, nil
	case errors.Is(err, localca.ErrUnwritable):
		// A read-only or absent file system (the FROM scratch image): the
		// CA lives in memory and the proxy hands it out at /ca.pem.
		log.Warn("the CA directory is not writable; the CA lives in memory only", "ca_dir", caDir, "err", err)
		ca, err = localca.New()
		return ca, "", err
	}
	return nil, "", fmt.Errorf("--ca-dir: %w", err)
}

// startProxy serves the forward proxy for the world's real host names.
func startProxy(listen string, ca *localca.CA, caFile string, w *world.World, log *slog.Logger) (*proxyInfo, error) {
	px, err := serve.StartProxy(listen, ca, w.Hosts, log)
	if err != nil {
		return nil, err
	}
	return &proxyInfo{URL: px.URL, CAFile: caFile, close: px.Close}, nil
}
