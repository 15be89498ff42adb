// Command gen writes subdivisions.txt, the ISO 3166-2 subdivisions the
// country package embeds, from the iso_3166-2.json of the iso-codes
// project (Debian: apt-get install iso-codes):
//
//	go run ./core/kit/country/internal/gen /usr/share/iso-codes/json/iso_3166-2.json > core/kit/country/subdivisions.txt
//
// One line per country: its alpha-2 code, a tab, then code=name pairs
// joined by "|", codes without the country prefix, sorted.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen iso_3166-2.json")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var doc struct {
		Subdivisions []struct {
			Code string `json:"code"`
			Name string `json:"name"`
		} `json:"3166-2"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	by := map[string][]string{}
	for _, s := range doc.Subdivisions {
		country, code, ok := strings.Cut(s.Code, "-")
		if !ok || strings.ContainsAny(s.Name, "|=\t\n") {
			fmt.Fprintf(os.Stderr, "unexpected entry %q %q\n", s.Code, s.Name)
			os.Exit(1)
		}
		by[country] = append(by[country], code+"="+s.Name)
	}
	countries := make([]string, 0, len(by))
	for c := range by {
		countries = append(countries, c)
	}
	slices.Sort(countries)
	fmt.Println("# ISO 3166-2 subdivisions: country<TAB>code=name|...; written by core/kit/country/internal/gen")
	fmt.Println("# from the iso-codes project's iso_3166-2.json (Debian package iso-codes); do not edit by hand")
	fmt.Println("# Data © the iso-codes authors (Alastair McKinstry, Christian Perrier, Tobias Quathamer and others),")
	fmt.Println("# https://salsa.debian.org/iso-codes-team/iso-codes, under the GNU Lesser General Public License 2.1")
	fmt.Println("# or later; this text file is its preferred form for modification: change it or regenerate it and rebuild.")
	for _, c := range countries {
		slices.Sort(by[c])
		fmt.Printf("%s\t%s\n", c, strings.Join(by[c], "|"))
	}
}
