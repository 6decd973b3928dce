package doccheck_test

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Every page's Go blocks compile together as one package of a user's
// module: names come from the page itself or from what Beignet and its
// dependencies export.
func TestDocsCompileAsUserCode(t *testing.T) {
	imp := exportImporter(t)
	for _, p := range readPages(t) {
		t.Run(p.name, func(t *testing.T) {
			_, errs := check(imp, p)
			for _, err := range errs {
				t.Error(err)
			}
		})
	}
}

var unusedImport = regexp.MustCompile(`^"([^"]+)" imported (?:as (\w+) )?and not used`)

// Only statement blocks, which are fragments of a function, may leave
// variables unused or end without a return.
var fragmentOnly = regexp.MustCompile(`declared and not used|missing return`)

// check type-checks page p as one package and returns its sources, with
// the auto-imports that no block uses left out, and its errors.
func check(imp types.Importer, p page) ([]source, []error) {
	srcs := p.sources(nil)
	drop := map[int]map[string]bool{}
	fset, files, err := parsed(p, srcs)
	if err != nil {
		return nil, []error{err}
	}
	// First pass: learn which auto-imports each block leaves unused.
	conf := types.Config{Importer: imp, Error: func(err error) {
		te := err.(types.Error)
		m := unusedImport.FindStringSubmatch(te.Msg)
		if m == nil {
			return
		}
		i := fileIndex(fset, te.Pos)
		if srcs[i].block.kind == fileBlock {
			return
		}
		if drop[i] == nil {
			drop[i] = map[string]bool{}
		}
		name := m[2]
		if name == "" {
			name = m[1][strings.LastIndex(m[1], "/")+1:]
		}
		drop[i][name] = true
	}}
	_, _ = conf.Check(p.pkg, fset, files, nil)

	srcs = p.sources(drop)
	fset, files, err = parsed(p, srcs)
	if err != nil {
		return nil, []error{err}
	}
	var errs []error
	conf = types.Config{Importer: imp, Error: func(err error) {
		te := err.(types.Error)
		i := fileIndex(fset, te.Pos)
		s := srcs[i]
		if s.block.kind == stmtBlock && fragmentOnly.MatchString(te.Msg) {
			return
		}
		errs = append(errs, fmt.Errorf("%s:%d: %s", p.name, s.pageLine(fset.Position(te.Pos).Line), te.Msg))
	}}
	_, _ = conf.Check(p.pkg, fset, files, nil)
	for i, f := range files {
		for _, spec := range f.Imports {
			path, _ := strconv.Unquote(spec.Path.Value)
			if path == "internal" || strings.HasPrefix(path, "internal/") || strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal") {
				errs = append(errs, fmt.Errorf("%s:%d: imports %s, which a user's module cannot import", p.name, srcs[i].pageLine(fset.Position(spec.Pos()).Line), path))
			}
		}
		errs = append(errs, assertionFree(p, srcs[i], fset, f)...)
		if err := unformatted(p, srcs[i].block); err != nil {
			errs = append(errs, err)
		}
	}
	return srcs, errs
}

// unformatted reports a file or declaration block that gofmt would change:
// what a user pastes is what their editor would leave.
func unformatted(p page, b block) error {
	if b.kind == stmtBlock {
		return nil
	}
	src := b.code
	if b.kind == declBlock {
		src = "package p\n\n" + src
	}
	got, err := formatted(src)
	if err != nil || got == src {
		return nil // a parse error is reported elsewhere
	}
	gotLines, wantLines := strings.Split(got, "\n"), strings.Split(src, "\n")
	offset := 0
	if b.kind == declBlock {
		offset = 2
	}
	for i := range min(len(gotLines), len(wantLines)) {
		if gotLines[i] != wantLines[i] {
			return fmt.Errorf("%s:%d: not gofmt-formatted; gofmt writes: %s", p.name, b.line+i-offset, strings.TrimSpace(gotLines[i]))
		}
	}
	return fmt.Errorf("%s:%d: not gofmt-formatted", p.name, b.line)
}

func fileIndex(fset *token.FileSet, pos token.Pos) int {
	name := fset.Position(pos).Filename
	i, _ := strconv.Atoi(name[strings.LastIndex(name, "#")+1:])
	return i
}

// assertionFree reports the test functions of f that can never fail: they
// neither call t.Error, t.Fatal (or their f forms, Fail, FailNow) nor hand
// t to a helper that could.
func assertionFree(p page, s source, fset *token.FileSet, f *ast.File) []error {
	var errs []error
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Test") || fn.Name.Name == "TestMain" || fn.Body == nil {
			continue
		}
		params := fn.Type.Params.List
		if len(params) != 1 || len(params[0].Names) != 1 {
			continue
		}
		tname := params[0].Names[0].Name
		asserts := false
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == tname {
					switch sel.Sel.Name {
					case "Error", "Errorf", "Fatal", "Fatalf", "Fail", "FailNow":
						asserts = true
					}
				}
			}
			for _, arg := range call.Args {
				if id, ok := arg.(*ast.Ident); ok && id.Name == tname {
					asserts = true
				}
			}
			return true
		})
		if !asserts {
			errs = append(errs, fmt.Errorf("%s:%d: %s asserts nothing", p.name, s.pageLine(fset.Position(fn.Pos()).Line), fn.Name.Name))
		}
	}
	return errs
}

// exportImporter reads compiler export data that `go list -export` builds
// (and caches), which is much faster than type-checking from source.
func exportImporter(t *testing.T) types.Importer {
	t.Helper()
	var paths []string
	for _, p := range autoImports {
		paths = append(paths, p)
	}
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
			return nil, fmt.Errorf("no export data for %q (not a dependency of Beignet)", path)
		}
		return os.Open(file)
	})
}

// What the docs had before: a helper no page defines, an internal/ import,
// and a test that can never fail. Each is an error naming the page's line.
func TestCheckerCatchesWhatAUserCannotCompile(t *testing.T) {
	imp := exportImporter(t)
	p := page{name: "bad.md", pkg: "docs", blocks: []block{
		{line: 10, kind: declBlock, code: "func TestDigest(t *testing.T) {\n\ts := scheduler.New(nil)\n\t_ = s.Add(\"digest\", \"* * * * *\", RunDailyReport)\n}\n"},
		{line: 20, kind: fileBlock, code: "package docs\n\nimport \"github.com/beignet-go/beignet/internal/testports\"\n\nvar _ = testports.CreateTestPorts\n"},
		{line: 30, kind: stmtBlock, code: "res, err := ports.Locks.Acquire(ctx, \"k\", locks.Options{TTL: time.Second})"},
	}}
	_, errs := check(imp, p)
	var got []string
	for _, err := range errs {
		got = append(got, err.Error())
	}
	for _, want := range []string{
		"bad.md:12: undefined: RunDailyReport",
		"bad.md:22: imports github.com/beignet-go/beignet/internal/testports, which a user's module cannot import",
		"bad.md:30: undefined: ports",
		"bad.md:10: TestDigest asserts nothing",
	} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("missing %q in:\n%s", want, strings.Join(got, "\n"))
		}
	}

	// The same page fixed has no errors, and loses the unused imports.
	p.blocks = []block{{line: 10, kind: declBlock, code: "func Hello(ctx *ctx.Context) error { return nil }\n"}}
	srcs, errs := check(imp, p)
	if len(errs) > 0 || strings.Contains(srcs[0].text, `"time"`) || !strings.Contains(srcs[0].text, `beignet/ctx"`) {
		t.Fatalf("errors %v, source:\n%s", errs, srcs[0].text)
	}
}

func TestUnformattedBlockIsNamed(t *testing.T) {
	p := page{name: "fmt.md"}
	if err := unformatted(p, block{line: 5, kind: declBlock, code: "func F() {\n\treturn\n}\n"}); err != nil {
		t.Fatalf("formatted block reported: %v", err)
	}
	err := unformatted(p, block{line: 5, kind: declBlock, code: "func F() {\n  return\n}\n"})
	if err == nil || !strings.Contains(err.Error(), "fmt.md:6: not gofmt-formatted") {
		t.Fatalf("err = %v, want it to name fmt.md:6", err)
	}
}
