package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// maxDeclines bounds the remembered local declines.
const maxDeclines = 10_000

// declineFile keeps local declines across restarts in KASSA_PLUGIN_DATA_DIR.
const declineFile = "wechatpay-declines.json"

// decline is an attempt the plugin refused before WeChat Pay saw it
// (currency, missing openid ...). GetPayment reports it as FAILED rather
// than NOT_FOUND, since Kassa was told it failed.
type decline struct {
	AttemptID string `json:"attempt_id"`
	Code      string `json:"code"`
	Message   string `json:"message"`
}

// remember records a local decline; callers hold no lock.
func (g *Gateway) remember(attemptID string, res payment.CreateResult) {
	if attemptID == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.declined[attemptID]; ok {
		return
	}
	if len(g.declineOrder) >= maxDeclines {
		delete(g.declined, g.declineOrder[0])
		g.declineOrder = g.declineOrder[1:]
	}
	g.declined[attemptID] = decline{AttemptID: attemptID, Code: res.DeclineCode, Message: res.MerchantMessage}
	g.declineOrder = append(g.declineOrder, attemptID)
	if g.dataDir == "" {
		return
	}
	list := make([]decline, 0, len(g.declineOrder))
	for _, id := range g.declineOrder {
		list = append(list, g.declined[id])
	}
	b, err := json.Marshal(list)
	if err == nil {
		tmp := filepath.Join(g.dataDir, declineFile+".tmp")
		if err = os.WriteFile(tmp, b, 0o600); err == nil {
			err = os.Rename(tmp, filepath.Join(g.dataDir, declineFile))
		}
	}
	if err != nil {
		slog.Error("saving local declines failed", "error", err)
	}
}

// lookupDecline returns a local decline of attemptID.
func (g *Gateway) lookupDecline(attemptID string) (decline, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	d, ok := g.declined[attemptID]
	return d, ok
}

// loadDeclines reads the declines saved in dir.
func (g *Gateway) loadDeclines(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, declineFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("wechatpay: read %s: %w", declineFile, err)
	}
	var list []decline
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("wechatpay: parse %s: %w", declineFile, err)
	}
	for _, d := range list {
		if _, ok := g.declined[d.AttemptID]; !ok && d.AttemptID != "" {
			g.declined[d.AttemptID] = d
			g.declineOrder = append(g.declineOrder, d.AttemptID)
		}
	}
	return nil
}
