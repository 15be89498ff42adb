// Package store opens Kassa's database (SQLite by default, PostgreSQL in
// production), runs its migrations and gives domain stores transactions
// that compose.
//
// A domain store never holds a *bun.Tx of its own. It asks for the
// connection of the context, which is the transaction when one is open:
//
//	err := db.RunInTx(ctx, func(ctx context.Context) error {
//		if _, err := db.Conn(ctx).NewInsert().Model(p).Exec(ctx); err != nil {
//			return err
//		}
//		return outbox.Add(ctx, event) // joins the same transaction
//	})
//
// Hot reads of fixed shape (a storefront page's products and their
// variant grid) run through DB.QueryStmt with ? placeholders: prepared
// once per text and reused, where bun would inline the values and the
// engine parse every statement again.
//
// Guards against doubles (stock, coupons, transitions) are conditional
// UPDATEs or unique inserts so they hold on SQLite and PostgreSQL alike.
package store
