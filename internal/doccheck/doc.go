// Package doccheck holds the test that type-checks every Go code block in
// README.md and docs/, so the docs cannot drift from the API.
package doccheck
