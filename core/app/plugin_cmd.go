package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	stdio "io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/plugin"
)

func init() {
	commands["plugin"] = command{"manage plugins: install, list, verify, remove, enable, disable, settings; dev, trigger for plugin authors", runPlugin}
}

const pluginUsage = `Usage: kassa plugin <action> [arguments] [flags]

Actions:
  install PATH... [--replace] [--quiet]
                             record plugin executables in the catalog, pinned by their sha256
                             (a file outside the plugin directory is copied in); --replace
                             installs over an installed version, keeping its settings;
                             --quiet says in one line what changed, nothing when nothing did
  list                       list installed plugins with version, state and health
  verify                     recompute every binary's sha256; exits 1 on a mismatch
  remove ID                  stop and uninstall a plugin
  enable ID | disable ID     offer a plugin to the shop, or stop offering it
  settings ID [--set JSON]   show a plugin's settings (secrets only as set/not set), or
                             replace them with a JSON object (omitted secrets are kept)
  dev DIR [--addr HOST:PORT] build the plugin in DIR, install and enable it in a development
                             data dir, serve the shop with it, and rebuild, reinstall and
                             restart it whenever DIR's .go files change
  trigger EVENT --payment ID post the running shop a notification of EVENT about the payment,
                             signed by the plugin as its gateway would (see trigger --help)

The plugin directory is --plugin-dir (default DATA_DIR/plugins). A running server
picks up changes within its health-check interval.
`

// runPlugin is `kassa plugin ...`. It opens the database only (no server,
// no event bus), so it works next to a running instance, and acts as the
// system subject.
func runPlugin(ctx context.Context, args []string, io IO) error {
	if len(args) == 0 || isHelp(args[0]) {
		return actionHelp(args, io, pluginUsage, "name an action")
	}
	action, rest := args[0], args[1:]
	switch action {
	case "dev":
		return runPluginDev(ctx, rest, io) // plugin_dev.go
	case "trigger":
		return runPluginTrigger(ctx, rest, io) // plugin_trigger.go
	}
	fs, load := flagSet("plugin "+action, io, pluginUsage, pluginSettings...)
	replace := fs.Bool("replace", false, "install: replace an installed version of the plugin")
	quiet := fs.Bool("quiet", false, "install: one line saying what changed, nothing when every binary was installed already")
	set := fs.String("set", "", "settings: new settings as a JSON object")
	pos, err := parseInterspersed(fs, rest)
	if err != nil {
		return err
	}
	want := map[string]int{"install": 1, "list": 0, "verify": 0, "remove": 1, "enable": 1, "disable": 1, "settings": 1}
	n, ok := want[action]
	if !ok {
		fs.Usage()
		return fmt.Errorf("%w: unknown plugin action %q", errUsage, action)
	}
	if len(pos) != n && (action != "install" || len(pos) == 0) {
		fs.Usage()
		if action == "install" {
			return fmt.Errorf("%w: plugin install takes the paths of one or more executables", errUsage)
		}
		return fmt.Errorf("%w: plugin %s takes %d argument(s)", errUsage, action, n)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	db, m, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := m.Up(ctx); err != nil {
		return err
	}
	// go-plugin narrates every start and stop at info level; a command
	// shows warnings and errors unless asked for debug output.
	if cfg.LogLevel == "info" {
		cfg.LogLevel = "warn"
	}
	log := newLogger(cfg, io.Stderr)
	svc, err := NewPlugins(ctx, cfg, db, systemOnly{}, log)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = svc.Close(cctx)
	}()
	ctx = authz.WithSubject(ctx, authz.SystemSubject("cli"))

	switch action {
	case "install":
		return installPlugins(ctx, svc, pos, *replace, *quiet, cfg.Plugins(), io)
	case "list":
		list, err := svc.List(ctx)
		if err != nil {
			return cliErr(err)
		}
		if len(list) == 0 {
			fmt.Fprintln(io.Stdout, "no plugins installed")
			return nil
		}
		tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tVERSION\tENABLED\tHEALTH\tSHA256")
		for _, p := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\n", p.ID, p.Kind, p.Version, p.Enabled, p.Health.Status, p.SHA256[:12])
		}
		return tw.Flush()
	case "verify":
		results, err := svc.Verify(ctx)
		if err != nil {
			return cliErr(err)
		}
		bad := 0
		for _, r := range results {
			if r.OK() {
				fmt.Fprintf(io.Stdout, "ok        %s  %s\n", r.ID, r.Path)
				continue
			}
			bad++
			fmt.Fprintf(io.Stdout, "MISMATCH  %s  %s: %s\n          pinned %s\n          found  %s\n", r.ID, r.Path, r.Problem, r.Want, orDefault(r.Got, "-"))
		}
		if bad > 0 {
			return fmt.Errorf("%d of %d plugin binaries do not match the catalog; they will not start until reinstalled (kassa plugin install --replace PATH)", bad, len(results))
		}
		fmt.Fprintf(io.Stdout, "%d of %d plugin binaries match the catalog\n", len(results), len(results))
	case "remove":
		if err := svc.Remove(ctx, pos[0]); err != nil {
			return cliErr(err)
		}
		fmt.Fprintln(io.Stdout, "removed", pos[0])
	case "enable", "disable":
		f := svc.Enable
		if action == "disable" {
			f = svc.Disable
		}
		p, err := f(ctx, pos[0])
		if err != nil {
			return cliErr(err)
		}
		fmt.Fprintf(io.Stdout, "%s enabled=%t\n", p.ID, p.Enabled)
	case "settings":
		var p plugin.Plugin
		if *set != "" {
			p, err = svc.UpdateSettings(ctx, pos[0], json.RawMessage(*set))
		} else {
			p, err = svc.Get(ctx, pos[0])
		}
		if err != nil {
			return cliErr(err)
		}
		printSettings(io.Stdout, p)
	}
	return nil
}

// installPlugins installs the executables at paths in turn, stopping at
// the first refused. Each is described as it is installed, or, quiet,
// the whole in one line that names what changed and leaves out the
// binaries installed already (make run installs every reference plugin
// at each start).
func installPlugins(ctx context.Context, svc *plugin.Service, paths []string, replace, quiet bool, dir string, io IO) error {
	var installed, replaced, restarting []string
	defer func() {
		if !quiet {
			return
		}
		if len(installed) > 0 {
			plural := "s"
			if len(installed) == 1 {
				plural = ""
			}
			fmt.Fprintf(io.Stdout, "installed %d plugin%s into %s: %s\n", len(installed), plural, dir, strings.Join(installed, ", "))
		}
		if len(replaced) > 0 {
			fmt.Fprintf(io.Stdout, "replaced %s\n", strings.Join(replaced, ", "))
		}
		if len(restarting) > 0 {
			fmt.Fprintf(io.Stdout, "A running server starts the new binary of %s within 30 seconds.\n", strings.Join(restarting, ", "))
		}
	}()
	for _, path := range paths {
		res, err := svc.Install(ctx, path, plugin.InstallOptions{Replace: replace})
		if err != nil {
			if len(paths) > 1 {
				return fmt.Errorf("install %s: %w", path, cliErr(err))
			}
			return cliErr(err)
		}
		p := res.Plugin
		switch {
		case res.Unchanged:
		case res.Replaced:
			replaced = append(replaced, p.ID+" "+p.Version)
			if p.Enabled {
				restarting = append(restarting, p.ID)
			}
		default:
			installed = append(installed, p.ID)
		}
		if !quiet {
			printInstalled(io.Stdout, res)
		}
		for _, w := range res.Warnings {
			fmt.Fprintln(io.Stderr, "warning:", w)
		}
	}
	return nil
}

// printInstalled describes one installed plugin and what to do next.
func printInstalled(w stdio.Writer, res plugin.InstallResult) {
	p := res.Plugin
	verb := "installed"
	switch {
	case res.Unchanged:
		// --replace with the very binary installed (a reproducible
		// rebuild gives the same bytes): nothing to replace, but the
		// file in the plugin directory was written again.
		verb = "unchanged (this exact binary is already installed; its file was restored)"
	case res.Replaced:
		verb = "replaced"
	}
	fmt.Fprintf(w, "%s: %s\n  kind     %s\n  version  %s\n  sha256   %s\n  file     %s\n  enabled  %t\n",
		verb, p.ID, p.Kind, p.Version, p.SHA256, p.FileName, p.Enabled)
	if !p.Enabled && !res.Replaced && !res.Unchanged {
		fmt.Fprintf(w, "Enable it with `kassa plugin enable %s` or in the admin.\n", p.ID)
	}
	if res.Replaced && p.Enabled {
		// The command works beside a server, which reads the
		// catalog on its health-check tick.
		fmt.Fprintln(w, "A running server starts the new binary within 30 seconds.")
	}
}

func printSettings(w stdio.Writer, p plugin.Plugin) {
	fmt.Fprintf(w, "%s settings (revision %d):\n  %s\n", p.ID, p.Revision, p.Settings)
	for _, s := range p.SecretFields {
		state := "not set"
		if s.IsSet {
			state = "set"
		}
		fmt.Fprintf(w, "  secret %s: %s\n", s.Name, state)
	}
}

// cliErr lists every user error of a refused operation, one per line.
func cliErr(err error) error {
	all := errs.All(err)
	if len(all) <= 1 {
		return err
	}
	lines := make([]string, len(all))
	for i, e := range all {
		lines[i] = "  " + e.Error()
	}
	return errors.New("refused:\n" + strings.Join(lines, "\n"))
}

// parseInterspersed parses flags placed before or after the positional
// arguments (`install --replace PATH` and `install PATH --replace`).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
