package serve

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Issue 11 item 6: compose published 8080-8082 on every interface and did
// not give the fakes (listening on 0.0.0.0 in their containers) an admin
// token. The compose files are part of the product; check them.
func TestComposeIsLoopbackAndTokenGuarded(t *testing.T) {
	var override struct {
		Services map[string]struct {
			Ports []string `yaml:"ports"`
		} `yaml:"services"`
	}
	b, err := os.ReadFile("../../docker-compose.override.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &override); err != nil {
		t.Fatal(err)
	}
	if len(override.Services) != 3 {
		t.Fatalf("services %v", override.Services)
	}
	for name, s := range override.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %q beyond loopback", name, p)
			}
		}
	}
	// Issue 16: compose offers the forward proxy, fakesnow's, on loopback
	// like the fakes' ports.
	if ports := strings.Join(override.Services["fakesnow"].Ports, " "); !strings.Contains(ports, "127.0.0.1:3128:3128") {
		t.Errorf("fakesnow publishes %q, want the proxy on 127.0.0.1:3128:3128", ports)
	}
	base, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(base), "M365SNOW_ADMIN_TOKEN: \"${M365SNOW_ADMIN_TOKEN:?") {
		t.Error("docker-compose.yml does not require M365SNOW_ADMIN_TOKEN")
	}
	// Issue 16: the image is built once, by one service; the others use it
	// and start after that one.
	var compose struct {
		Services map[string]struct {
			Build     any       `yaml:"build"`
			Image     string    `yaml:"image"`
			DependsOn yaml.Node `yaml:"depends_on"` // a list, or a map with conditions
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(base, &compose); err != nil {
		t.Fatal(err)
	}
	builders := 0
	for name, s := range compose.Services {
		if s.Image != "m365snow:local" {
			t.Errorf("%s runs image %q", name, s.Image)
		}
		if s.Build != nil {
			builders++
			continue
		}
		if len(s.DependsOn.Content) == 0 {
			t.Errorf("%s does not start after the service that builds the image", name)
		}
	}
	// fakem365 applies inducements signed by a Microsoft 365 admin, with a
	// token from fakeaad (troubleshooting-3): it starts once fakeaad is
	// healthy, not merely started.
	var m365 struct {
		Services struct {
			Fakem365 struct {
				DependsOn map[string]struct {
					Condition string `yaml:"condition"`
				} `yaml:"depends_on"`
			} `yaml:"fakem365"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(base, &m365); err != nil {
		t.Fatal(err)
	}
	if c := m365.Services.Fakem365.DependsOn["fakeaad"].Condition; c != "service_healthy" {
		t.Errorf("fakem365 depends on fakeaad with condition %q, want service_healthy", c)
	}
	var commands struct {
		Services map[string]struct {
			Command []string `yaml:"command"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(base, &commands); err != nil {
		t.Fatal(err)
	}
	snow := strings.Join(commands.Services["fakesnow"].Command, " ")
	if !strings.Contains(snow, "--proxy-listen ${M365SNOW_LISTEN_HOST:-0.0.0.0}:3128") {
		t.Errorf("fakesnow's command %q serves no proxy on 3128", snow)
	}
	// The proxy serves the --map-host names: every real host of the
	// integration (the instance's is fakesnow's own).
	for _, h := range []string{"login.microsoftonline.com", "graph.microsoft.com", "connector.rave.microsoft.com", "admin.microsoft.com"} {
		if !strings.Contains(snow, "--map-host "+h+"=") {
			t.Errorf("fakesnow's proxy does not map %s", h)
		}
	}
	if builders != 1 {
		t.Errorf("%d services build the image, want 1", builders)
	}
	if strings.Contains(string(base), `"0.0.0.0:`) {
		t.Error("docker-compose.yml hard-codes 0.0.0.0; host networking must be able to listen on loopback")
	}
}
