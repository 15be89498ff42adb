package plugin

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/store"
)

// row is a plugins table row. Only this file runs queries.
type row struct {
	bun.BaseModel `bun:"table:plugins"`

	ID              string       `bun:"id,pk"`
	Kind            string       `bun:"kind,notnull"`
	DisplayName     string       `bun:"display_name,notnull"`
	Description     string       `bun:"description,notnull"`
	DisplayNames    string       `bun:"display_names,notnull"`
	Descriptions    string       `bun:"descriptions,notnull"`
	Version         string       `bun:"version,notnull"`
	ProtocolVersion int          `bun:"protocol_version,notnull"`
	SDKVersion      string       `bun:"sdk_version,notnull"`
	SHA256          string       `bun:"sha256,notnull"`
	FileName        string       `bun:"file_name,notnull"`
	Capabilities    string       `bun:"capabilities,notnull"`
	ConfigSchema    string       `bun:"config_schema,notnull"`
	Enabled         bool         `bun:"enabled,notnull"`
	Settings        string       `bun:"settings,notnull"`
	Secrets         string       `bun:"secrets,notnull"`
	SecretsKeyID    string       `bun:"secrets_key_id,notnull"`
	SecretFields    string       `bun:"secret_fields,notnull"`
	Revision        int64        `bun:"revision,notnull"`
	HealthStatus    string       `bun:"health_status,notnull"`
	HealthMessage   string       `bun:"health_message,notnull"`
	HealthCheckedAt bun.NullTime `bun:"health_checked_at"`
	InstalledAt     time.Time    `bun:"installed_at,notnull"`
	UpdatedAt       time.Time    `bun:"updated_at,notnull"`
}

func (r *row) capabilities() []string {
	var caps []string
	_ = json.Unmarshal([]byte(r.Capabilities), &caps)
	return caps
}

// texts reads a JSON object of texts by language (display_names,
// descriptions); nil when empty or unreadable.
func texts(s string) map[string]string {
	var m map[string]string
	if json.Unmarshal([]byte(s), &m) != nil || len(m) == 0 {
		return nil
	}
	return m
}

// textsJSON stores texts by language as a JSON object ("{}" for none).
func textsJSON(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func (r *row) secretFieldsSet() []string {
	var set []string
	_ = json.Unmarshal([]byte(r.SecretFields), &set)
	return set
}

// pluginStore holds the catalog queries.
type pluginStore struct{ db *store.DB }

// SecretKeyIDs returns the ids of the master keys (secret.Box.KeyID) that
// the stored plugin secrets were sealed with, none when no plugin has any.
func SecretKeyIDs(ctx context.Context, db *store.DB) ([]string, error) {
	var ids []string
	err := db.Conn(ctx).NewSelect().Model((*row)(nil)).Distinct().Column("secrets_key_id").
		Where("secrets_key_id <> ''").OrderExpr("secrets_key_id").Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("list the keys of plugin secrets: %w", err)
	}
	return ids, nil
}

func (s pluginStore) get(ctx context.Context, id string) (*row, error) {
	r := new(row)
	err := s.db.Conn(ctx).NewSelect().Model(r).Where("id = ?", id).Scan(ctx)
	if store.IsNoRows(err) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("load plugin %s: %w", id, err)
	}
	return r, nil
}

func (s pluginStore) list(ctx context.Context, kind Kind, enabledOnly bool) ([]*row, error) {
	var rows []*row
	q := s.db.Conn(ctx).NewSelect().Model(&rows).OrderExpr("id ASC")
	if kind != "" {
		q = q.Where("kind = ?", string(kind))
	}
	if enabledOnly {
		q = q.Where("enabled = ?", true)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list plugins: %w", err)
	}
	return rows, nil
}

func (s pluginStore) insert(ctx context.Context, r *row) error {
	if _, err := s.db.Conn(ctx).NewInsert().Model(r).Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return errAlreadyInstalled(r.ID)
		}
		return fmt.Errorf("insert plugin %s: %w", r.ID, err)
	}
	return nil
}

// replaceBinary records a new binary of an installed plugin, keeping its
// settings and enabled flag.
func (s pluginStore) replaceBinary(ctx context.Context, r *row, prevRevision int64) error {
	res, err := s.db.Conn(ctx).NewUpdate().Model(r).
		Column("display_name", "description", "display_names", "descriptions", "version", "protocol_version", "sdk_version", "sha256",
			"file_name", "capabilities", "config_schema", "settings", "secrets", "secrets_key_id",
			"secret_fields", "revision", "health_status", "health_message", "health_checked_at", "updated_at").
		WherePK().Where("revision = ?", prevRevision).Exec(ctx)
	return checkOne(res, err, r.ID)
}

// saveTexts stores the names and descriptions in other languages of an
// unchanged binary: rows written before they were recorded get them at the
// binary's next install.
func (s pluginStore) saveTexts(ctx context.Context, r *row) error {
	_, err := s.db.Conn(ctx).NewUpdate().Model(r).Column("display_names", "descriptions").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("update plugin %s: %w", r.ID, err)
	}
	return nil
}

// saveSettings stores new settings if nobody changed the plugin since
// prevRevision.
func (s pluginStore) saveSettings(ctx context.Context, r *row, prevRevision int64) error {
	res, err := s.db.Conn(ctx).NewUpdate().Model(r).
		Column("settings", "secrets", "secrets_key_id", "secret_fields", "revision", "updated_at").
		WherePK().Where("revision = ?", prevRevision).Exec(ctx)
	return checkOne(res, err, r.ID)
}

func (s pluginStore) setEnabled(ctx context.Context, id string, enabled bool, now time.Time) (bool, error) {
	res, err := s.db.Conn(ctx).NewUpdate().Model((*row)(nil)).
		Set("enabled = ?", enabled).Set("revision = revision + 1").Set("updated_at = ?", now).
		Where("id = ?", id).Where("enabled <> ?", enabled).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("update plugin %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (s pluginStore) recordHealth(ctx context.Context, id string, h Health) error {
	_, err := s.db.Conn(ctx).NewUpdate().Model((*row)(nil)).
		Set("health_status = ?", string(h.Status)).Set("health_message = ?", h.Message).
		Set("health_checked_at = ?", h.CheckedAt).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record health of plugin %s: %w", id, err)
	}
	return nil
}

func (s pluginStore) delete(ctx context.Context, id string) error {
	res, err := s.db.Conn(ctx).NewDelete().Model((*row)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete plugin %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(id)
	}
	return nil
}

func checkOne(res sql.Result, err error, id string) error {
	if err != nil {
		return fmt.Errorf("update plugin %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errChanged(id)
	}
	return nil
}
