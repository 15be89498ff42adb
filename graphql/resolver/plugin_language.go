package resolver

// languageArg is the language argument of the fields that answer in the
// caller's language (Plugin.displayName, PaymentMethod.name): a BCP 47
// tag, the plugin's default text when absent or unmatched. The API takes
// the language as an argument rather than from Accept-Language so that
// cached answers and in-process storefront calls name it explicitly.
type languageArg struct{ Language *string }

// DisplayName resolves Plugin.displayName.
func (r *pluginResolver) DisplayName(args languageArg) string {
	return r.p.DisplayNameIn(str(args.Language))
}

// Description resolves Plugin.description.
func (r *pluginResolver) Description(args languageArg) string {
	return r.p.DescriptionIn(str(args.Language))
}
