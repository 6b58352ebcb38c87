// Oracle for Go module versions: golang.org/x/mod/semver. "a<TAB>b" lines in, -1/0/1 or E out.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		parts := strings.SplitN(in.Text(), "\t", 2)
		if !semver.IsValid(parts[0]) || !semver.IsValid(parts[1]) {
			fmt.Fprintln(out, "E")
		} else {
			fmt.Fprintln(out, semver.Compare(parts[0], parts[1]))
		}
		out.Flush()
	}
}
