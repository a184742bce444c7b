package main

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStartToHealthy runs the sandbox binary as a person would and
// measures from exec until all three fakes answer /healthz, with the
// default world loaded; it also reports the process's resident memory
// then. docs/benchmarks.md records the numbers.
func BenchmarkStartToHealthy(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "sandbox")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	var rss, total float64
	for b.Loop() {
		addrs := []string{freePort(b), freePort(b), freePort(b)}
		cmd := exec.Command(bin, "--snow-listen", addrs[0], "--aad-listen", addrs[1], "--m365-listen", addrs[2])
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		// The first line is printed once the world serves.
		if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
			b.Fatal(err)
		}
		for _, a := range addrs {
			res, err := client.Get("http://" + a + "/healthz")
			if err != nil || res.StatusCode != 200 {
				b.Fatalf("%s: %v %v", a, res, err)
			}
			res.Body.Close()
		}
		total += float64(time.Since(start).Microseconds()) / 1000
		rss += residentMiB(b, cmd.Process.Pid)
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}
	b.ReportMetric(total/float64(b.N), "ms-to-healthy")
	b.ReportMetric(rss/float64(b.N), "MiB-rss")
}

func freePort(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// residentMiB reads VmRSS from /proc.
func residentMiB(b *testing.B, pid int) float64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Skipf("no /proc here: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
