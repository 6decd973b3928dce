package doccheck_test

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// imports are available to every snippet without an import block.
var imports = map[string]string{
	"context":            "context",
	"errors":             "errors",
	"fmt":                "fmt",
	"time":               "time",
	"testing":            "testing",
	"pgx":                "github.com/jackc/pgx/v5",
	"pgxpool":            "github.com/jackc/pgx/v5/pgxpool",
	"clockwork":          "github.com/jonboulle/clockwork",
	"redis":              "github.com/redis/go-redis/v9",
	"maintnotifications": "github.com/redis/go-redis/v9/maintnotifications",
	"fx":                 "go.uber.org/fx",
	"zap":                "go.uber.org/zap",
	"beignet":            "github.com/beignet-go/beignet",
	"beignettest":        "github.com/beignet-go/beignet/beignettest",
	"locks":              "github.com/beignet-go/beignet/locks",
	"lockstest":          "github.com/beignet-go/beignet/locks/lockstest",
	"outbox":             "github.com/beignet-go/beignet/outbox",
	"redislocks":         "github.com/beignet-go/beignet/providers/redislocks",
	"scheduler":          "github.com/beignet-go/beignet/scheduler",
	"testports":          "github.com/beignet-go/beignet/internal/testports",
}

// prelude declares what fragments may refer to without defining it.
const prelude = `
var (
	pool      *pgxpool.Pool
	store     *outbox.Postgres
	publisher outbox.Publisher
	ports     *CTX.Ports
	lease     locks.Lease
	body      []byte
)
func RunDailyReport(c *CTX.Context) error { return nil }
func RefreshCache(c *CTX.Context) error   { return nil }
`

var block = regexp.MustCompile("(?s)```go\n(.*?)```")

// Messages that only mean a fragment declares something it does not use.
var harmless = regexp.MustCompile(`declared and not used|imported and not used|"[^"]+" imported as \w+ and not used|missing return`)

func TestDocSnippets(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	imp := exportImporter(t)
	n := 0
	for _, path := range files {
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range block.FindAllSubmatchIndex(text, -1) {
			code := string(text[m[2]:m[3]])
			line := bytes.Count(text[:m[2]], []byte("\n")) + 1
			name := fmt.Sprintf("%s:%d", filepath.Base(path), line)
			n++
			t.Run(fmt.Sprintf("%s#%d", filepath.Base(path), i+1), func(t *testing.T) {
				for _, err := range check(imp, name, code) {
					t.Error(err)
				}
			})
		}
	}
	if n == 0 {
		t.Fatal("no Go blocks found in the docs")
	}
}

// check type-checks one code block: a whole file if it has a package
// clause, top-level declarations if it starts with one, else statements
// inside a function that has ctx (a context.Context) in scope.
func check(imp types.Importer, name, code string) []error {
	var src string
	switch {
	case strings.HasPrefix(code, "package "):
		src = code
	case isDecls(code):
		// Declarations see the ctx package as ctx, as in handlers:
		// func Run(ctx *ctx.Context) error.
		src = "package snippet\n" + importBlock("ctx") + strings.ReplaceAll(prelude, "CTX", "ctx") + code
	default:
		// Statements see ctx as a context.Context, and the package as
		// bctx.
		src = "package snippet\n" + importBlock("bctx") + strings.ReplaceAll(prelude, "CTX", "bctx") +
			"func _(ctx context.Context) error {\n" + code + "\nreturn nil\n}\n"
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return []error{fmt.Errorf("%s: does not parse: %v\n%s", name, err, src)}
	}
	var errs []error
	conf := types.Config{Importer: imp, Error: func(err error) {
		if !harmless.MatchString(err.Error()) {
			errs = append(errs, fmt.Errorf("%s: %v", name, err))
		}
	}}
	_, _ = conf.Check("snippet", fset, []*ast.File{f}, nil)
	return errs
}

func isDecls(code string) bool {
	for _, kw := range []string{"func ", "var ", "type ", "const ", "import "} {
		if strings.HasPrefix(code, kw) {
			return true
		}
	}
	return false
}

func importBlock(ctxName string) string {
	var b strings.Builder
	b.WriteString("import (\n")
	fmt.Fprintf(&b, "\t%s %q\n", ctxName, "github.com/beignet-go/beignet/ctx")
	for name, path := range imports {
		fmt.Fprintf(&b, "\t%s %q\n", name, path)
	}
	b.WriteString(")\n")
	return b.String()
}

// exportImporter reads compiler export data that `go list -export` builds
// (and caches), which is much faster than type-checking from source.
func exportImporter(t *testing.T) types.Importer {
	var paths []string
	for _, p := range imports {
		paths = append(paths, p)
	}
	paths = append(paths, "github.com/beignet-go/beignet/ctx")
	cmd := exec.Command("go", append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}"}, paths...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -export: %v", err)
	}
	exports := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && v != "" {
			exports[k] = v
		}
	}
	return importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %q", path)
		}
		return os.Open(file)
	})
}
