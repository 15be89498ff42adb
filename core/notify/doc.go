// Package notify is the notifications domain. For now it holds the port the
// notification channel plugins fill: [Channel]. core/plugin adapts plugin
// processes to it; this package never imports the plugin SDK.
package notify
