package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/host"
)

// InstallOptions tune Install.
type InstallOptions struct {
	// Replace allows installing over an installed plugin with the same id
	// (an upgrade or downgrade). Its settings and enabled flag are kept.
	Replace bool
}

// Install records the plugin executable at path in the catalog, pinned by
// its sha256. A file inside the plugin directory is used where it is; a
// file elsewhere is copied in (named after the plugin's id). Symbolic links
// are refused, and so is a path inside the directory that resolves outside
// it. The binary is started once to ask for its identity (Describe), then
// stopped. Installing is not enabling: a new plugin starts disabled.
func (s *Service) Install(ctx context.Context, path string, opt InstallOptions) (InstallResult, error) {
	if err := s.can(ctx, authz.Write); err != nil {
		return InstallResult{}, err
	}
	src, fileName, err := s.locate(path)
	if err != nil {
		return InstallResult{}, err
	}
	candidate := src
	var sum, tmp string
	if fileName == "" {
		// Copy first, then hash and start the copy: the file that is
		// described and pinned is exactly the one that will run.
		tmp, sum, err = copyIn(src, s.opts.Dir)
		if err != nil {
			return InstallResult{}, err
		}
		defer removeFile(tmp) //nolint:errcheck // gone after the rename; best effort otherwise
		candidate = tmp
	} else if sum, err = host.FileSHA256(candidate); err != nil {
		return InstallResult{}, fmt.Errorf("hash %s: %w", candidate, err)
	}
	info, err := s.describe(ctx, candidate, sum, path)
	if err != nil {
		return InstallResult{}, err
	}
	if err := s.checkDataAccess(ctx, "install", info.ID, Kind(info.Kind), info.Capabilities); err != nil {
		return InstallResult{}, err
	}
	schema, err := compileSchema(info.ConfigSchema)
	if err != nil {
		return InstallResult{}, invalidBinary(path, err.Error())
	}
	if fileName == "" {
		fileName = info.ID
	}

	var res InstallResult
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		now := s.clock.Now()
		caps, _ := json.Marshal(info.Capabilities)
		r := &row{
			ID: info.ID, Kind: string(info.Kind), DisplayName: info.DisplayName, Description: info.Description,
			DisplayNames: textsJSON(info.DisplayNames), Descriptions: textsJSON(info.Descriptions),
			Version: info.Version, ProtocolVersion: info.ProtocolVersion, SDKVersion: info.SDKVersion,
			SHA256: sum, FileName: fileName, Capabilities: string(caps), ConfigSchema: info.ConfigSchema,
			Settings: "{}", SecretFields: "[]", Revision: 1, HealthStatus: string(HealthUnknown),
			InstalledAt: now, UpdatedAt: now,
		}
		old, err := s.st.get(ctx, info.ID)
		switch {
		case errors.Is(err, errs.ErrNotFound):
			if err := s.st.insert(ctx, r); err != nil {
				return err
			}
		case err != nil:
			return err
		case !opt.Replace:
			return errAlreadyInstalled(info.ID)
		case old.SHA256 == sum && old.FileName == fileName:
			res.Unchanged = true
			if old.DisplayNames != r.DisplayNames || old.Descriptions != r.Descriptions {
				old.DisplayNames, old.Descriptions = r.DisplayNames, r.Descriptions
				if err := s.st.saveTexts(ctx, old); err != nil {
					return err
				}
			}
			r = old
		default:
			res.Replaced = true
			warnings, err := s.carrySettings(old, r, schema)
			if err != nil {
				return err
			}
			res.Warnings = warnings
			r.Enabled, r.InstalledAt, r.Revision = old.Enabled, old.InstalledAt, old.Revision+1
			if err := s.st.replaceBinary(ctx, r, old.Revision); err != nil {
				return err
			}
		}
		s.enabled.invalidate(ctx)
		if tmp != "" {
			// Also when unchanged: the file in the directory may be the
			// tampered one this install repairs.
			// Last step of the transaction: if the rename fails nothing is
			// recorded; if the commit fails the new file does not match the
			// pinned checksum and simply refuses to start.
			if err := os.Rename(tmp, filepath.Join(s.opts.Dir, fileName)); err != nil {
				return fmt.Errorf("install %s into the plugin directory: %w", info.ID, err)
			}
		}
		res.Plugin = s.toPlugin(r, schema)
		return nil
	})
	if err != nil {
		return InstallResult{}, err
	}
	if res.Unchanged {
		if i := s.existing(info.ID); i != nil {
			i.clearFailure()
		}
	} else {
		s.reload(info.ID, "new binary installed")
		s.log.Info("plugin installed", attrPlugin, info.ID, "version", info.Version, "sha256", sum, "replaced", res.Replaced)
	}
	for _, w := range res.Warnings {
		s.log.Warn("plugin install: "+w, attrPlugin, info.ID)
	}
	return res, nil
}

// locate checks the file to install and says whether it already lives in
// the plugin directory (fileName is its path there) or must be copied in
// (fileName is "").
func (s *Service) locate(path string) (src, fileName string, err error) {
	src, err = filepath.Abs(path)
	if err != nil {
		return "", "", invalidBinary(path, err.Error())
	}
	fi, err := os.Lstat(src)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", "", invalidBinary(path, "no such file")
	case err != nil:
		return "", "", invalidBinary(path, err.Error())
	case fi.Mode()&fs.ModeSymlink != 0:
		return "", "", invalidBinary(path, "is a symbolic link; install the file it points to (links could be redirected to another binary later)")
	case !fi.Mode().IsRegular():
		return "", "", invalidBinary(path, "is not a regular file")
	case fi.Mode().Perm()&0o111 == 0:
		return "", "", invalidBinary(path, "is not executable (chmod +x)")
	}
	if err := os.MkdirAll(s.opts.Dir, 0o750); err != nil {
		return "", "", fmt.Errorf("create plugin directory: %w", err)
	}
	realDir, err := filepath.EvalSymlinks(s.opts.Dir)
	if err != nil {
		return "", "", fmt.Errorf("plugin directory: %w", err)
	}
	realParent, err := filepath.EvalSymlinks(filepath.Dir(src))
	if err != nil {
		return "", "", invalidBinary(path, err.Error())
	}
	rel, err := filepath.Rel(realDir, filepath.Join(realParent, filepath.Base(src)))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		// Outside the directory (possibly through a linked parent): copy.
		return src, "", nil
	}
	// Inside: refer to it through the directory, so no component can be a
	// link leading elsewhere at start time.
	return filepath.Join(s.opts.Dir, rel), rel, nil
}

// copyIn copies src into a new hidden file in dir and returns its path and
// sha256.
func copyIn(src, dir string) (tmp, sum string, err error) {
	in, err := os.Open(src)
	if err != nil {
		return "", "", invalidBinary(src, err.Error())
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, ".install-*")
	if err != nil {
		return "", "", fmt.Errorf("copy plugin: %w", err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Chmod(0o755)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = removeFile(out.Name())
		return "", "", fmt.Errorf("copy plugin: %w", err)
	}
	return out.Name(), hex.EncodeToString(h.Sum(nil)), nil
}

// describe starts the binary once and asks who it is.
func (s *Service) describe(ctx context.Context, path, sum, shown string) (sdk.Info, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout+s.opts.CallTimeout)
	defer cancel()
	cfg := host.Config{
		Path: path, SHA256: sum, Logger: s.log.With("install", shown), LogLevel: s.opts.LogLevel,
		StartTimeout: s.opts.StartTimeout, CallTimeout: s.opts.CallTimeout,
	}
	p, err := host.Start(ctx, cfg)
	// The copy was just written: a fork elsewhere in this process (another
	// plugin starting) may hold its descriptor for a moment, and exec then
	// fails with ETXTBSY (golang.org/issue/22315). It passes once that
	// child has exec'd.
	for wait := 10 * time.Millisecond; err != nil && textBusy(err) && wait <= 640*time.Millisecond; wait *= 2 {
		time.Sleep(wait)
		p, err = host.Start(ctx, cfg)
	}
	if err != nil {
		return sdk.Info{}, invalidBinary(shown, "it did not start as a Kassa plugin: "+err.Error())
	}
	defer p.Kill()
	info, err := p.Describe(ctx)
	if err != nil {
		return sdk.Info{}, invalidBinary(shown, "Describe failed: "+err.Error())
	}
	if err := info.Validate(); err != nil {
		return sdk.Info{}, invalidBinary(shown, err.Error())
	}
	return info, nil
}

// textBusy reports whether err is exec's ETXTBSY, which go-plugin passes
// on as text.
func textBusy(err error) bool {
	return errors.Is(err, syscall.ETXTBSY) || strings.Contains(err.Error(), syscall.ETXTBSY.Error())
}

func invalidBinary(path, why string) *errs.Error {
	return errs.Invalid("path", CodeInvalidBinary, fmt.Sprintf("cannot install %s: %s", path, why))
}

// carrySettings moves the settings of an installed version to the new row,
// re-splitting secrets when the new schema marks other fields writeOnly. It
// returns warnings when the new schema refuses the kept settings.
func (s *Service) carrySettings(old, r *row, schema *settingsSchema) ([]string, error) {
	oldSchema, err := compileSchema(old.ConfigSchema)
	if err == nil && slices.Equal(oldSchema.secrets, schema.secrets) {
		r.Settings, r.Secrets, r.SecretsKeyID, r.SecretFields = old.Settings, old.Secrets, old.SecretsKeyID, old.SecretFields
	} else {
		full, err := fullSettings(s.opts.Secrets, old)
		if err != nil {
			return nil, err
		}
		sec := splitSecrets(full, schema.secrets)
		b, _ := json.Marshal(full)
		r.Settings = string(b)
		if err := sealSecrets(s.opts.Secrets, r, sec); err != nil {
			return nil, err
		}
	}
	full, err := s.settingsOf(r)
	if err != nil {
		return []string{fmt.Sprintf("stored settings cannot be checked: %v", err)}, nil
	}
	if problems := schema.validate(full); problems != nil {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.Error()
		}
		return []string{fmt.Sprintf("the stored settings do not fit version %s and must be fixed before the plugin starts: %s", r.Version, strings.Join(msgs, "; "))}, nil
	}
	return nil, nil
}

// settingsOf returns r's complete settings, opening secrets only if any.
func (s *Service) settingsOf(r *row) (map[string]any, error) {
	return fullSettings(s.opts.Secrets, r)
}

// Get returns one installed plugin.
func (s *Service) Get(ctx context.Context, id string) (Plugin, error) {
	if err := s.can(ctx, authz.Read); err != nil {
		return Plugin{}, err
	}
	r, err := s.st.get(ctx, id)
	if err != nil {
		return Plugin{}, err
	}
	return s.toPlugin(r, nil), nil
}

// List returns every installed plugin, ordered by id.
func (s *Service) List(ctx context.Context) ([]Plugin, error) {
	if err := s.can(ctx, authz.Read); err != nil {
		return nil, err
	}
	rows, err := s.st.list(ctx, "", false)
	if err != nil {
		return nil, err
	}
	out := make([]Plugin, len(rows))
	for i, r := range rows {
		out[i] = s.toPlugin(r, nil)
	}
	return out, nil
}

// Verify recomputes the sha256 of every installed binary and compares it
// with the catalog. A result with a Problem means that plugin will refuse
// to start.
func (s *Service) Verify(ctx context.Context) ([]VerifyResult, error) {
	if err := s.can(ctx, authz.Read); err != nil {
		return nil, err
	}
	rows, err := s.st.list(ctx, "", false)
	if err != nil {
		return nil, err
	}
	out := make([]VerifyResult, len(rows))
	for i, r := range rows {
		res := VerifyResult{ID: r.ID, Path: s.binaryPath(r), Want: r.SHA256}
		fi, err := os.Lstat(res.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			res.Problem = "binary is missing"
		case err != nil:
			res.Problem = err.Error()
		case !fi.Mode().IsRegular():
			res.Problem = "binary is not a regular file (" + fi.Mode().Type().String() + ")"
		default:
			res.Got, err = host.FileSHA256(res.Path)
			if err != nil {
				res.Problem = err.Error()
			} else if res.Got != res.Want {
				res.Problem = "checksum mismatch: the binary was replaced or modified after install"
			}
		}
		out[i] = res
	}
	return out, nil
}

// Remove stops a plugin and deletes it from the catalog. A binary the
// catalog copied into the plugin directory is deleted too; the plugin's
// data directory is kept. A plugin with work to finish (Options.InUse: a
// gateway's open payments) is refused with PLUGIN_IN_USE.
func (s *Service) Remove(ctx context.Context, id string) error {
	if err := s.can(ctx, authz.Write); err != nil {
		return err
	}
	r, err := s.st.get(ctx, id)
	if err != nil {
		return err
	}
	if s.opts.InUse != nil {
		what, err := s.opts.InUse(ctx, id)
		if err != nil {
			return err
		}
		if what != "" {
			// Removing it would leave them unsettled for good: nothing
			// could ask its gateway any more. Disabling stops new ones.
			return errs.Conflict("id", CodeInUse, fmt.Sprintf("plugin %s still has %s: disable it to stop new ones, and remove it once they are settled", id, what))
		}
	}
	if err := s.st.delete(ctx, id); err != nil {
		return err
	}
	s.enabled.invalidate(ctx)
	s.reload(id, "removed")
	if r.FileName == r.ID {
		if err := removeFile(s.binaryPath(r)); err != nil {
			s.log.Warn("plugin removed but its binary could not be deleted", attrPlugin, id, attrErr, err)
		}
	}
	s.log.Info("plugin removed", attrPlugin, id)
	return nil
}

// toPlugin converts a row; schema may be nil (compiled here).
func (s *Service) toPlugin(r *row, schema *settingsSchema) Plugin {
	p := Plugin{
		ID: r.ID, Kind: Kind(r.Kind), DisplayName: r.DisplayName, Description: r.Description,
		DisplayNames: texts(r.DisplayNames), Descriptions: texts(r.Descriptions),
		Version: r.Version, ProtocolVersion: r.ProtocolVersion, SDKVersion: r.SDKVersion,
		SHA256: r.SHA256, FileName: r.FileName, Capabilities: r.capabilities(), ConfigSchema: r.ConfigSchema,
		Enabled: r.Enabled, Settings: json.RawMessage(r.Settings), Revision: r.Revision,
		Health:      Health{Status: HealthStatus(r.HealthStatus), Message: r.HealthMessage, CheckedAt: r.HealthCheckedAt.Time},
		InstalledAt: r.InstalledAt, UpdatedAt: r.UpdatedAt,
	}
	if schema == nil {
		schema, _ = compileSchema(r.ConfigSchema)
	}
	if schema != nil {
		p.SecretFields = describeSecrets(schema, r)
	}
	if !r.Enabled {
		p.Health = Health{Status: HealthStopped, Message: "disabled", CheckedAt: p.Health.CheckedAt}
	} else if i := s.existing(r.ID); i != nil {
		if h, ok := i.currentHealth(); ok {
			p.Health = h
		}
	}
	return p
}
