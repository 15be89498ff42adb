// Command gateway is a minimal, complete example of a Kassa payment gateway
// plugin; the gateway itself is in package gateway (./gateway). Copy this
// directory to start your own (see docs/plugins.md, "Start from the
// example").
//
// Its test (main_test.go) runs the conformance kit against the built binary
// and plays the buyer on the gateway's hosted payment page.
package main

import (
	"github.com/kassahq/kassa/plugins/sdk/examples/gateway/gateway"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

func main() { payment.Serve(gateway.New()) }
