// Command kassa is the Kassa checkout platform: one binary for the shop,
// its API, its admin and its maintenance commands.
package main

import (
	"os"

	"github.com/kassahq/kassa/core/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], app.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
