package kassa_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestDockerFiles keeps docker/ in step with the rest: the image builds
// every reference plugin (through the Makefile, whose list covers every
// plugin directory), the build context leaves out data directories (a
// secret.key and a database would reach the builder), and compose gives
// Kassa time to stop gracefully, twice KASSA_SHUTDOWN_TIMEOUT's default
// (requests in flight, then the outbox).
func TestDockerFiles(t *testing.T) {
	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	m := regexp.MustCompile(`(?m)^PLUGINS\s*:=\s*(.*)$`).FindStringSubmatch(read("Makefile"))
	if m == nil {
		t.Fatal("Makefile has no PLUGINS list")
	}
	listed := strings.Fields(m[1])
	dirs, err := os.ReadDir("plugins")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if _, err := os.Stat("plugins/" + d.Name() + "/main.go"); err == nil && !slices.Contains(listed, d.Name()) {
			t.Errorf("plugins/%s is a plugin the Makefile's PLUGINS (and so the image) leaves out", d.Name())
		}
	}
	if !regexp.MustCompile(`RUN make build plugins BIN=/out\b`).MatchString(read("docker/Dockerfile")) {
		t.Error("docker/Dockerfile does not build kassa and the plugins with `make build plugins BIN=/out`")
	}

	ignored := strings.Fields(read(".dockerignore"))
	for _, want := range []string{"data/", "bin/", "kassa.yaml"} {
		if !slices.Contains(ignored, want) {
			t.Errorf(".dockerignore does not leave out %s", want)
		}
	}

	var compose struct {
		Kassa struct {
			StopGracePeriod string `yaml:"stop_grace_period"`
		} `yaml:"x-kassa"`
	}
	if err := yaml.Unmarshal([]byte(read("docker/compose.yaml")), &compose); err != nil {
		t.Fatal(err)
	}
	if d, err := time.ParseDuration(compose.Kassa.StopGracePeriod); err != nil || d < 2*15*time.Second {
		t.Errorf("compose's stop_grace_period is %q, want at least 30s", compose.Kassa.StopGracePeriod)
	}
}
