package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	stdio "io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/plugin"
)

const pluginDevUsage = `Usage: kassa plugin dev DIR [--addr HOST:PORT] [--settings JSON] [--poll DURATION] [flags]

Builds the plugin in DIR (go build), installs it into a development data
directory (as kassa plugin install --replace: pinned by its sha256), enables
it and serves the shop with it. DIR's .go files, go.mod and go.sum are
watched: on a change the plugin is rebuilt, reinstalled and restarted; a
failed build is printed and the previous binary keeps running.

The data directory is --data-dir when given, otherwise one per DIR under
your cache directory, kept between runs. --settings sets the plugin's
settings (JSON object, as kassa plugin settings --set) before enabling it.
Send the plugin's notifications to the shop with kassa plugin trigger.
`

// runPluginDev is `kassa plugin dev DIR`: a plugin author's loop. The shop
// runs in this process; the watcher rebuilds and reinstalls through the
// same plugin host, which stops the old process so the next call starts
// the new binary.
func runPluginDev(ctx context.Context, args []string, io IO) error {
	fset, load := flagSet("plugin dev", io, pluginDevUsage)
	addr := fset.String("addr", "", "address to serve the development shop on (default: --http-addr)")
	settings := fset.String("settings", "", "the plugin's settings as a JSON object, set before enabling it")
	poll := fset.Duration("poll", 500*time.Millisecond, "how often DIR's files are checked for changes")
	pos, err := parseInterspersed(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fset.Usage()
		return fmt.Errorf("%w: plugin dev takes the plugin's source directory", errUsage)
	}
	if *poll < 50*time.Millisecond {
		return fmt.Errorf("%w: --poll must be at least 50ms", errUsage)
	}
	if *settings != "" && !json.Valid([]byte(*settings)) {
		return fmt.Errorf("%w: --settings is not valid JSON", errUsage)
	}
	src, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	if files, err := watchedFiles(src); err != nil {
		return fmt.Errorf("plugin source %s: %w", src, err)
	} else if !hasGo(files) {
		return fmt.Errorf("%w: %s holds no .go files", errUsage, src)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if !flagGiven(fset, "data-dir") && os.Getenv("KASSA_DATA_DIR") == "" {
		if cfg.DataDir, err = devDataDir(src); err != nil {
			return err
		}
	}
	if *addr != "" {
		cfg.HTTPAddr = *addr
	}
	if cfg.Production() {
		return fmt.Errorf("%w: kassa plugin dev runs a development shop; unset --env production", errUsage)
	}
	d := &devLoop{src: src, out: io.Stdout, bin: filepath.Join(cfg.DataDir, "dev-build", filepath.Base(src))}
	if err := os.MkdirAll(filepath.Dir(d.bin), 0o750); err != nil {
		return err
	}
	fmt.Fprintf(io.Stdout, "kassa plugin dev: building %s\n", src)
	if out, err := d.build(ctx); err != nil {
		return fmt.Errorf("build %s: %w\n%s", src, err, out)
	}

	a, err := New(ctx, cfg, Options{LogOutput: io.Stderr})
	if err != nil {
		return err
	}
	defer a.Close(context.Background()) //nolint:errcheck // logged by Close
	d.plugins = a.Plugins
	sctx := authz.WithSubject(ctx, authz.SystemSubject("plugin-dev"))
	p, err := d.install(sctx)
	if err != nil {
		return err
	}
	if *settings != "" {
		if _, err := a.Plugins.UpdateSettings(sctx, p.ID, json.RawMessage(*settings)); err != nil {
			return cliErr(err)
		}
	}
	if !p.Enabled {
		if _, err := a.Plugins.Enable(sctx, p.ID); err != nil {
			fmt.Fprintf(io.Stdout, "%s is not enabled: %v\n  set its settings: kassa plugin settings %s --set '{...}' --data-dir %s\n  then enable it:   kassa plugin enable %s --data-dir %s\n",
				p.ID, cliErr(err), p.ID, cfg.DataDir, p.ID, cfg.DataDir)
		}
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	// Listen before the banner: a plugin author (or a script) who opens
	// the shop's address as soon as it is printed finds it there.
	ln, err := listen(cfg.HTTPAddr, "--addr HOST:PORT")
	if err != nil {
		return err
	}
	defer ln.Close() //nolint:errcheck // closed already when the shop has served
	base := strings.TrimSuffix(cfg.BaseURL(), "/")
	fmt.Fprintf(io.Stdout, `
%s %s is installed from %s
    shop        %s/
    admin       %s/admin/
    webhooks    %s/webhooks/%s
    data dir    %s
Send it a notification signed as its gateway would (from another terminal):
    kassa plugin trigger payment.succeeded --plugin %s --payment pay_... --data-dir %s --http-addr %s
Watching %s for changes; Ctrl-C stops.
`, p.ID, p.Version, src, base, base, base, p.ID, cfg.DataDir, p.ID, cfg.DataDir, cfg.HTTPAddr, src)
	if err := a.Accounts.AnnounceOwnerSetup(ctx, io.Stdout, base, false); err != nil {
		return err
	}
	watchDone := make(chan struct{})
	wctx, stopWatch := context.WithCancel(sctx)
	go func() {
		defer close(watchDone)
		d.watch(wctx, *poll)
	}()
	err = a.ServeListener(ctx, ln)
	stopWatch()
	<-watchDone
	if err != nil {
		return err
	}
	return a.Close(context.Background())
}

// devLoop builds and reinstalls one plugin.
type devLoop struct {
	src     string
	bin     string
	out     stdio.Writer
	plugins *plugin.Service
}

// build compiles the plugin into d.bin and returns the compiler's output.
func (d *devLoop) build(ctx context.Context) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", d.bin, ".")
	cmd.Dir = d.src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd.CombinedOutput()
}

// install installs the built binary over the installed one (settings and
// the enabled flag are kept, as with kassa plugin install --replace).
func (d *devLoop) install(ctx context.Context) (plugin.Plugin, error) {
	res, err := d.plugins.Install(ctx, d.bin, plugin.InstallOptions{Replace: true})
	if err != nil {
		return plugin.Plugin{}, cliErr(err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(d.out, "warning:", w)
	}
	return res.Plugin, nil
}

// watch polls the source files and rebuilds after a change has settled
// (one quiet poll, so an editor's save of several files is one build).
func (d *devLoop) watch(ctx context.Context, every time.Duration) {
	last, _ := fingerprint(d.src)
	pending := ""
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now, err := fingerprint(d.src)
		if err != nil {
			fmt.Fprintf(d.out, "watch %s: %v\n", d.src, err)
			continue
		}
		switch {
		case now != last:
			last, pending = now, now
		case pending != "":
			pending = ""
			d.rebuild(ctx)
		}
	}
}

// rebuild builds, reinstalls and starts the plugin again, printing what
// happened; a failure leaves the running plugin as it was.
func (d *devLoop) rebuild(ctx context.Context) {
	fmt.Fprintf(d.out, "change in %s: rebuilding\n", d.src)
	if out, err := d.build(ctx); err != nil {
		if ctx.Err() == nil {
			fmt.Fprintf(d.out, "build failed (the previous build keeps running):\n%s\n", strings.TrimSpace(string(out)))
		}
		return
	}
	p, err := d.install(ctx)
	if err != nil {
		fmt.Fprintf(d.out, "reinstall failed (the previous build keeps running): %v\n", err)
		return
	}
	h, err := d.plugins.CheckHealth(ctx, p.ID)
	if err != nil {
		fmt.Fprintf(d.out, "reinstalled %s %s (sha256 %.12s); health check failed: %v\n", p.ID, p.Version, p.SHA256, err)
		return
	}
	fmt.Fprintf(d.out, "reinstalled %s %s (sha256 %.12s), restarted: %s %s\n", p.ID, p.Version, p.SHA256, h.Status, h.Message)
}

// watchedFiles lists DIR's Go sources and module files, skipping hidden
// directories, testdata and vendor, as the go command does.
func watchedFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := e.Name()
		if e.IsDir() {
			if path != dir && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") || name == "go.mod" || name == "go.sum" {
			out = append(out, path)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func hasGo(files []string) bool {
	for _, f := range files {
		if strings.HasSuffix(f, ".go") {
			return true
		}
	}
	return false
}

// fingerprint summarises the watched files' names, sizes and modification
// times: a change to any of them, an added or a removed file changes it.
func fingerprint(dir string) (string, error) {
	files, err := watchedFiles(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, f := range files {
		info, err := os.Stat(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed while walking: the next poll sees it gone
		}
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", f, info.Size(), info.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// devDataDir is the development data directory of the plugin in src: one
// per source directory under the user's cache, kept between runs so the
// shop's data and the plugin's settings survive a restart.
func devDataDir(src string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for the development data; pass --data-dir: %w", err)
	}
	sum := sha256.Sum256([]byte(src))
	return filepath.Join(cache, "kassa", "plugin-dev", filepath.Base(src)+"-"+hex.EncodeToString(sum[:4])), nil
}

// flagGiven reports whether the flag name was given on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
