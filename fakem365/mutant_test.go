package fakem365

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoBinaryReachesAMutant keeps the mutants test-only: no file of the
// binaries (cmd/) or of the packages they build worlds with (world/,
// internal/) names Options.Mutant or a mutant.
func TestNoBinaryReachesAMutant(t *testing.T) {
	for _, dir := range []string{"../cmd", "../world", "../internal"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if strings.Contains(string(b), "Mutant") {
				t.Errorf("%s names a mutant: mutants must stay reachable from tests only", path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
