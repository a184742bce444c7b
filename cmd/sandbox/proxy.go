package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/m365snow/m365snow/internal/localca"
	"github.com/m365snow/m365snow/internal/proxy"
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
	p, err := proxy.New(proxy.Options{Hosts: w.Hosts, CA: ca, Logger: log})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("the forward proxy cannot listen on %s (--proxy-listen; empty turns it off): %w", listen, err)
	}
	srv := serve.NewServer(p, log)
	go func() { _ = srv.Serve(ln) }()
	return &proxyInfo{
		URL:    "http://" + world.Advertised(ln.Addr()),
		CAFile: caFile,
		close:  func() { srv.Close(); p.Close() },
	}, nil
}
