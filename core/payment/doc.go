// Package payment is the payments domain. For now it holds the port the
// payment gateway plugins fill: [Gateway], in the shop's words, with money as
// money.Money. core/plugin adapts plugin processes to it; this package never
// imports the plugin SDK or gRPC.
package payment
