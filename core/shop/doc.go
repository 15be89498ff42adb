// Package shop owns the shop's settings: the currencies it sells in (the
// first is the default), how long a placed order waits for payment and
// when the buyer is reminded, the order number prefix, the most units one
// cart line may hold, whether prices include tax, and the payments'
// settings (what to do with money for a cancelled order, the order of
// payment methods, whether buyers' payments are captured at once or held
// for staff, the storefront origins return URLs may be on). They are one
// row, read on every cart and checkout, so the Service keeps them in
// memory.
//
//	svc, err := shop.NewService(db, shop.Options{Authz: az, Outbox: outbox, DefaultCurrency: money.CNY})
//	s, err := svc.Settings(ctx) // anyone: nothing in the settings is secret
//	deadline := s.PaymentDeadline
//
//	prefix := "KS-"
//	s, err = svc.Update(ctx, shop.UpdateSettingsInput{OrderNumberPrefix: &prefix}) // needs settings write
//	for _, p := range errs.All(err) { /* p.Field ("orderNumberPrefix"), p.Code */ }
package shop
