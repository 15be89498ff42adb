package order

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// The batch reads behind Details: one query per kind of record for a
// whole page of orders, grouped by order id.

// LinesOf returns the lines of the orders, by order id, in position order.
func (s *orderStore) LinesOf(ctx context.Context, orderIDs []string) (map[string][]*Line, error) {
	var ls []*Line
	if err := s.db.Conn(ctx).NewSelect().Model(&ls).Where("l.order_id IN (?)", bun.In(orderIDs)).
		OrderExpr("l.order_id, l.position").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read order lines: %w", err)
	}
	out := make(map[string][]*Line, len(orderIDs))
	for _, l := range ls {
		out[l.OrderID] = append(out[l.OrderID], l)
	}
	return out, nil
}

// ShipmentsOf returns the shipments of the orders with their lines, by
// order id, oldest first.
func (s *orderStore) ShipmentsOf(ctx context.Context, orderIDs []string) (map[string][]*Shipment, error) {
	conn := s.db.Conn(ctx)
	var shs []*Shipment
	if err := conn.NewSelect().Model(&shs).Where("sh.order_id IN (?)", bun.In(orderIDs)).
		OrderExpr("sh.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read shipments: %w", err)
	}
	out := make(map[string][]*Shipment, len(orderIDs))
	if len(shs) == 0 {
		return out, nil
	}
	ids := make([]string, len(shs))
	byID := make(map[string]*Shipment, len(shs))
	for i, sh := range shs {
		ids[i], byID[sh.ID] = sh.ID, sh
		out[sh.OrderID] = append(out[sh.OrderID], sh)
	}
	var sls []*ShipmentLine
	if err := conn.NewSelect().Model(&sls).Where("sl.shipment_id IN (?)", bun.In(ids)).
		OrderExpr("sl.shipment_id, sl.order_line_id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read shipment lines: %w", err)
	}
	for _, sl := range sls {
		byID[sl.ShipmentID].Lines = append(byID[sl.ShipmentID].Lines, sl)
	}
	return out, nil
}

// NotesOf returns the staff notes of the orders, by order id, oldest first.
func (s *orderStore) NotesOf(ctx context.Context, orderIDs []string) (map[string][]*Note, error) {
	var ns []*Note
	if err := s.db.Conn(ctx).NewSelect().Model(&ns).Where("n.order_id IN (?)", bun.In(orderIDs)).
		OrderExpr("n.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read order notes: %w", err)
	}
	out := make(map[string][]*Note, len(orderIDs))
	for _, n := range ns {
		out[n.OrderID] = append(out[n.OrderID], n)
	}
	return out, nil
}

// TimelineOf returns the timelines of the orders, by order id, oldest
// first; with buyerOnly, the entries buyers see only.
func (s *orderStore) TimelineOf(ctx context.Context, orderIDs []string, buyerOnly bool) (map[string][]*TimelineEntry, error) {
	var es []*TimelineEntry
	q := s.db.Conn(ctx).NewSelect().Model(&es).Where("tl.order_id IN (?)", bun.In(orderIDs))
	if buyerOnly {
		q = q.Where("tl.visibility = ?", VisibleToBuyer)
	}
	if err := q.OrderExpr("tl.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read order timeline: %w", err)
	}
	out := make(map[string][]*TimelineEntry, len(orderIDs))
	for _, e := range es {
		out[e.OrderID] = append(out[e.OrderID], e)
	}
	return out, nil
}
