// Package redact masks secrets in configuration values before they are
// echoed in an error or a log line.
package redact

import (
	"regexp"
	"strings"
)

// userinfo matches the password of scheme://user:password@, also in a URL
// too malformed to parse: a bad port must not be the reason a password is
// printed.
var userinfo = regexp.MustCompile(`(://[^:/@?#\s]*:)([^\s/?#]*)@`)

// param matches a password given as a parameter rather than in the user
// information: a URL's query (postgres://host/db?password=...) or a
// PostgreSQL keyword/value DSN (host=db password=... or password='a b'),
// both of which pgx accepts, as well as sslpassword.
var param = regexp.MustCompile(`(?i)((?:^|[\s?&])(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&#]*)`)

// Mask is the mask that replaces a password.
const Mask = "xxxxx"

// URL returns raw with every password in it replaced by Mask: that of its
// user information, and any password parameter (in a query or a
// keyword/value DSN). Everything else, including what makes it malformed,
// is kept so the reader can see what is wrong.
func URL(raw string) string {
	return param.ReplaceAllString(userinfo.ReplaceAllString(raw, "${1}"+Mask+"@"), "${1}"+Mask)
}

// In returns text with every occurrence of the URL raw replaced by its
// masked form: for error messages of parsers that quote their input.
func In(text, raw string) string {
	if raw == "" {
		return text
	}
	return strings.ReplaceAll(text, raw, URL(raw))
}
