package main

import (
	"fmt"
	"os"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

func main() {
	g, err := New(os.Getenv(sdk.EnvDataDir))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	payment.Serve(g)
}
