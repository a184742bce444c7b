package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/m365snow/m365snow/internal/adminapi"
	"github.com/m365snow/m365snow/internal/fixture"
	"github.com/m365snow/m365snow/internal/serve"
	"github.com/m365snow/m365snow/world"
)

// serveOwn serves the sandbox's own address: what concerns the whole
// world rather than one fake.
func serveOwn(listen string, f *fixture.File, w *world.World, adminToken string, log *slog.Logger) (stop func(), url string, err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__admin/world", func(rw http.ResponseWriter, r *http.Request) {
		b, err := w.Save(f)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		rw.Header().Set("Content-Type", "application/yaml")
		rw.Header().Set("Content-Disposition", `attachment; filename="world.yaml"`)
		rw.Write(b)
	})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, "", fmt.Errorf("the sandbox cannot listen on %s (--listen; empty turns it off): %w", listen, err)
	}
	// A saved world holds every password and secret: the same guard as
	// the fakes' control planes (no foreign Origin or Host, the token).
	srv := serve.NewServer(adminapi.Guard{Token: adminToken}.Wrap(mux), log)
	go func() { _ = srv.Serve(ln) }()
	return func() { srv.Close() }, "http://" + world.Advertised(ln.Addr()), nil
}

// worldArg is how --world names a saved file: always as a path.
func worldArg(file string) string {
	if fixture.IsPath(file) && (strings.ContainsRune(file, filepath.Separator) || strings.HasPrefix(file, ".")) {
		return file
	}
	return "." + string(filepath.Separator) + file
}
