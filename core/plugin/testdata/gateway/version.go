package main

// version is overridden with -ldflags "-X main.version=..." to build a
// second, different binary of the same plugin.
var version = "1.0.0"
