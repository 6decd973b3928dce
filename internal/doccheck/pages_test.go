package doccheck_test

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	pathpkg "path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// autoImports are the import names that declaration and statement blocks
// may use without an import block, as an editor would add them. Only
// packages a user's module can import: nothing under internal/.
var autoImports = map[string]string{
	"context":            "context",
	"errors":             "errors",
	"fmt":                "fmt",
	"sync":               "sync",
	"time":               "time",
	"testing":            "testing",
	"http":               "net/http",
	"pgx":                "github.com/jackc/pgx/v5",
	"pgxpool":            "github.com/jackc/pgx/v5/pgxpool",
	"clockwork":          "github.com/jonboulle/clockwork",
	"redis":              "github.com/redis/go-redis/v9",
	"maintnotifications": "github.com/redis/go-redis/v9/maintnotifications",
	"prometheus":         "github.com/prometheus/client_golang/prometheus",
	"promhttp":           "github.com/prometheus/client_golang/prometheus/promhttp",
	"fx":                 "go.uber.org/fx",
	"zap":                "go.uber.org/zap",
	"goleak":             "go.uber.org/goleak",
	"beignet":            "github.com/beignet-go/beignet",
	"admin":              "github.com/beignet-go/beignet/admin",
	"beignettest":        "github.com/beignet-go/beignet/beignettest",
	"ctx":                "github.com/beignet-go/beignet/ctx",
	"health":             "github.com/beignet-go/beignet/health",
	"locks":              "github.com/beignet-go/beignet/locks",
	"metrics":            "github.com/beignet-go/beignet/metrics",
	"lockstest":          "github.com/beignet-go/beignet/locks/lockstest",
	"outbox":             "github.com/beignet-go/beignet/outbox",
	"redislocks":         "github.com/beignet-go/beignet/providers/redislocks",
	"scheduler":          "github.com/beignet-go/beignet/scheduler",
}

type kind int

const (
	fileBlock kind = iota // starts with a package clause
	declBlock             // top-level declarations
	stmtBlock             // statements
)

type block struct {
	line int // of the block's first code line in the page
	code string
	kind kind
}

// page is one Markdown file's Go blocks: one package.
type page struct {
	name   string // "testing.md"
	slug   string // "testing": its directory under testdocs/
	pkg    string // package name: from its file blocks, else "docs"
	blocks []block
}

var fence = regexp.MustCompile("(?s)```go\n(.*?)```")

// readPages reads every Markdown page with Go blocks.
func readPages(t *testing.T) []page {
	t.Helper()
	paths, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, "../../README.md")
	var pages []page
	for _, path := range paths {
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		p := page{name: filepath.Base(path), pkg: "docs"}
		p.slug = strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]`).ReplaceAllString(strings.TrimSuffix(p.name, ".md"), ""))
		for _, m := range fence.FindAllSubmatchIndex(text, -1) {
			code := string(text[m[2]:m[3]])
			b := block{line: bytes.Count(text[:m[2]], []byte("\n")) + 1, code: code, kind: classify(code)}
			if b.kind == fileBlock {
				name := strings.Fields(strings.SplitN(code, "\n", 2)[0])[1]
				if p.hasFile() && name != p.pkg {
					t.Fatalf("%s:%d: package %s, but the page's other blocks are package %s", p.name, b.line, name, p.pkg)
				}
				p.pkg = name
			}
			p.blocks = append(p.blocks, b)
		}
		if len(p.blocks) > 0 {
			pages = append(pages, p)
		}
	}
	if len(pages) == 0 {
		t.Fatal("no Go blocks found in the docs")
	}
	return pages
}

func (p page) hasFile() bool {
	for _, b := range p.blocks {
		if b.kind == fileBlock {
			return true
		}
	}
	return false
}

func classify(code string) kind {
	if strings.HasPrefix(code, "package ") {
		return fileBlock
	}
	for _, kw := range []string{"func ", "var ", "type ", "const ", "import ", "// "} {
		if strings.HasPrefix(code, kw) && (kw != "// " || startsWithDecl(code)) {
			return declBlock
		}
	}
	return stmtBlock
}

// startsWithDecl reports whether code, after leading comment lines, starts
// with a declaration: a doc comment above a func is a declaration block.
func startsWithDecl(code string) bool {
	for _, line := range strings.Split(code, "\n") {
		if strings.HasPrefix(line, "//") {
			continue
		}
		return classify(line) == declBlock
	}
	return false
}

// source is one block as a Go file of the page's package.
type source struct {
	block  block
	header int // lines added before the block's code
	text   string
}

// sources renders the page's blocks as files. Declaration and statement
// blocks import every auto-import name but those in drop[i], the names
// found unused in block i on a first pass.
func (p page) sources(drop map[int]map[string]bool) []source {
	var out []source
	for i, b := range p.blocks {
		if b.kind == fileBlock {
			out = append(out, source{block: b, text: b.code})
			continue
		}
		var h strings.Builder
		fmt.Fprintf(&h, "package %s\n\nimport (\n", p.pkg)
		names := make([]string, 0, len(autoImports))
		for name := range autoImports {
			if !drop[i][name] {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			if path := autoImports[name]; pathpkg.Base(path) == name {
				fmt.Fprintf(&h, "\t%q\n", path)
			} else {
				fmt.Fprintf(&h, "\t%s %q\n", name, path)
			}
		}
		h.WriteString(")\n\n")
		code := b.code
		if b.kind == stmtBlock {
			h.WriteString("func _(ctx context.Context) error {\n")
			code += "\nreturn nil\n}\n"
		}
		header := strings.Count(h.String(), "\n")
		out = append(out, source{block: b, header: header, text: h.String() + code})
	}
	return out
}

// pageLine maps a line of a rendered source back to the page.
func (s source) pageLine(line int) int { return s.block.line + line - 1 - s.header }

// parsed parses every source of the page.
func parsed(p page, srcs []source) (*token.FileSet, []*ast.File, error) {
	fset := token.NewFileSet()
	var files []*ast.File
	for i, s := range srcs {
		f, err := parser.ParseFile(fset, fmt.Sprintf("%s#%d", p.name, i), s.text, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: does not parse: %v", p.name, s.block.line, err)
		}
		files = append(files, f)
	}
	return fset, files, nil
}

// formatted gofmts a generated file.
func formatted(src string) (string, error) {
	out, err := format.Source([]byte(src))
	return string(out), err
}
