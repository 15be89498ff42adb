// Command banktransfer is Kassa's offline payment plugin
// (payment.banktransfer): the buyer transfers the money themselves, and
// staff confirm its receipt in Kassa.
//
// CreatePayment answers PENDING with an INSTRUCTIONS action: the shop's
// account (holder, IBAN, BIC, bank from the settings), the amount and the
// reference to quote, which is the order number. The same values are in
// Action.Details ("account_holder", "iban", "bic", "bank_name", "reference",
// "amount", "currency") for storefronts that lay them out themselves. Texts
// exist in English and Simplified Chinese (locale "zh-CN").
//
// The plugin never learns that money arrived (capability confirm.manual):
// GetPayment keeps answering PENDING and staff confirm receipt in Kassa
// ("mark received"). CancelPayment closes the attempt (the instructions are
// void, GetPayment answers CANCELED). Refunds are manual too (capability
// refund.manual): Refund answers PENDING with instructions for staff, who
// transfer the money back and confirm it in Kassa.
//
// Idempotency keys are honoured. Transfers and refunds are kept in memory
// and in journals of plugins/sdk/state in $KASSA_PLUGIN_DATA_DIR
// (banktransfer-transfers.jsonl, banktransfer-refunds.jsonl), written
// before the answer, so a retry after a restart gets the same
// instructions; the whole-state file of earlier builds (banktransfer-state.json) is
// folded into them once.
package main
