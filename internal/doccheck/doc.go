// Package doccheck holds the tests that keep the Go code in README.md and
// docs/ true, compiled as an app in its own module would compile it:
//
//   - The Go blocks of one page form one package. A name a block uses must
//     be defined on the same page or exported by Beignet (or the standard
//     library and Beignet's dependencies). Nothing is predeclared for the
//     blocks, and no block may import an internal/ package.
//   - A block is a whole file (it starts with a package clause), top-level
//     declarations, or statements. Statements run inside a function that
//     has ctx, a context.Context, and returns an error; they may leave
//     variables unused. Declarations and files see the usual short import
//     names (context, time, fx, zap, ctx, locks, scheduler, outbox, ...), as
//     an editor adds them.
//   - File and declaration blocks are gofmt-formatted, as a user's editor
//     would leave them.
//   - A page with test functions is also a real test: its file and
//     declaration blocks are generated into testdocs/<page>/, which runs
//     under `make test`. Every test function must assert something. After
//     editing such a page, run `go test ./internal/doccheck -update`.
package doccheck
