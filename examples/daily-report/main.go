// Command daily-report is Beignet's example app: a fleet of instances that
// builds one report per day between them.
//
// Run it with `make run` (in-memory defaults, no servers needed).
package main

import "github.com/beignet-go/beignet"

func main() {
	beignet.New(Providers()...).Run()
}
