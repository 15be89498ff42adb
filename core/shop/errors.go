package shop

// The stable error codes of the shop settings. Clients switch on them;
// never change a released one.
const (
	CodeRequired          = "REQUIRED"
	CodeTooMany           = "TOO_MANY"
	CodeTooLong           = "TOO_LONG"
	CodeInvalidCurrency   = "INVALID_CURRENCY"
	CodeDuplicateCurrency = "DUPLICATE_CURRENCY"
	// CodeOutOfRange: a number or duration outside its bounds.
	CodeOutOfRange = "OUT_OF_RANGE"
	// CodeInvalidDuration: a duration that is not a whole number of
	// seconds.
	CodeInvalidDuration = "INVALID_DURATION"
	// CodeReminderAfterDeadline: the reminder lead is not shorter than the
	// payment deadline, so the reminder would come before the order exists.
	CodeReminderAfterDeadline = "REMINDER_NOT_BEFORE_DEADLINE"
	// CodeInvalidPrefix: the order number prefix holds a character that is
	// not printable.
	CodeInvalidPrefix = "INVALID_PREFIX"
	// CodeInvalidPaymentMethod: an entry of the payment method order that
	// is not a plugin id.
	CodeInvalidPaymentMethod = "INVALID_PAYMENT_METHOD"
	// CodeDuplicatePaymentMethod: a plugin id listed twice.
	CodeDuplicatePaymentMethod = "DUPLICATE_PAYMENT_METHOD"
	// CodeInvalidCaptureMode: a capture mode other than AUTOMATIC and
	// MANUAL.
	CodeInvalidCaptureMode = "INVALID_CAPTURE_MODE"
	// CodeInvalidOrigin: a storefront origin that is not an http(s)
	// origin alone (scheme, host, optional port).
	CodeInvalidOrigin = "INVALID_ORIGIN"
	// CodeDuplicateOrigin: a storefront origin listed twice.
	CodeDuplicateOrigin = "DUPLICATE_ORIGIN"
)
