// Package invoice is the invoicing domain. For now it holds the port the
// invoice rule plugins fill: [Rule], in the shop's words. core/plugin adapts
// plugin processes to it; this package never imports the plugin SDK.
package invoice
