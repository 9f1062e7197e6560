package admin

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// consoleSource parses the package's Go files, tests left out.
func consoleSource(t *testing.T) (*token.FileSet, []*ast.File) {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return fset, files
}

// stringLit is the value of a string literal expression.
func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// TestEveryMessageKeyIsUsedAndKnown reads the console's Go code: every
// msg call names a message of the catalog by a literal key and fills
// exactly the placeholders the key declares; every message of the catalog
// is used by some call; every label table is read somewhere.
func TestEveryMessageKeyIsUsedAndKnown(t *testing.T) {
	fset, files := consoleSource(t)
	usedMessages, usedTables := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				fn, ok := x.Fun.(*ast.Ident)
				if !ok || (fn.Name != "msg" && fn.Name != "label") || len(x.Args) == 0 {
					return true
				}
				key, ok := stringLit(x.Args[0])
				if !ok {
					t.Errorf("%s: %s's key is not a string literal, so it cannot be checked", fset.Position(x.Pos()), fn.Name)
					return true
				}
				if fn.Name == "label" {
					if _, ok := labelTables[key]; !ok {
						t.Errorf("%s: label table %q is not in labelTables", fset.Position(x.Pos()), key)
					}
					usedTables[key] = true
					return true
				}
				want, ok := messageKeys[key]
				if !ok {
					t.Errorf("%s: message %q is not in messageKeys (nor in the catalog)", fset.Position(x.Pos()), key)
					return true
				}
				if _, ok := texts.Messages[key]; !ok {
					t.Errorf("%s: message %q is not in templates/messages.yaml", fset.Position(x.Pos()), key)
				}
				usedMessages[key] = true
				var filled []string
				for i := 1; i < len(x.Args); i += 2 {
					name, ok := stringLit(x.Args[i])
					if !ok {
						t.Errorf("%s: placeholder name of %q is not a string literal", fset.Position(x.Pos()), key)
					}
					filled = append(filled, name)
				}
				if len(x.Args)%2 == 0 {
					t.Errorf("%s: %q is given a placeholder without a value", fset.Position(x.Pos()), key)
				}
				slices.Sort(filled)
				if w := slices.Sorted(slices.Values(want)); !slices.Equal(filled, w) {
					t.Errorf("%s: %q fills %v, its text may use %v", fset.Position(x.Pos()), key, filled, w)
				}
			case *ast.IndexExpr: // texts.Labels["audit_action"]
				if sel, ok := x.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Labels" {
					if key, ok := stringLit(x.Index); ok {
						usedTables[key] = true
					}
				}
			}
			return true
		})
	}
	for _, k := range slices.Sorted(maps.Keys(texts.Messages)) {
		if !usedMessages[k] {
			t.Errorf("templates/messages.yaml: messages.%s is used by no msg call", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(texts.Labels)) {
		if !usedTables[k] {
			t.Errorf("templates/messages.yaml: labels.%s is read nowhere", k)
		}
	}
}

// TestNoStaffTextInGo: the console's sentences and names are in the
// catalog and the templates, never in a Go string.
func TestNoStaffTextInGo(t *testing.T) {
	fset, files := consoleSource(t)
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if s, ok := stringLit(asExpr(n)); ok && strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
				t.Errorf("%s: Chinese text in Go: %q (put it in templates/messages.yaml or the page's template)", fset.Position(n.Pos()), s)
			}
			return true
		})
	}
}

func asExpr(n ast.Node) ast.Expr {
	e, _ := n.(ast.Expr)
	return e
}

// TestCatalogIsChecked: a catalog that does not match the keys Go uses is
// refused, saying what is wrong, so the program cannot start with it.
func TestCatalogIsChecked(t *testing.T) {
	good := string(catalogFile)
	if _, err := loadCatalog(catalogFile); err != nil {
		t.Fatalf("the embedded catalog: %v", err)
	}
	cases := []struct {
		name, old, new, want string
	}{
		{"a message missing", "  error.busy: 系统繁忙，请稍后再试。\n", "", "messages.error.busy is missing"},
		{"a message blank", "  error.busy: 系统繁忙，请稍后再试。\n", "  error.busy: \"\"\n", "messages.error.busy is missing"},
		{"a message nobody uses", "  error.busy:", "  error.bussy: x\n  error.busy:", "messages.error.bussy is not a message the console uses"},
		{"an unknown placeholder", "密码至少需要 {min} 个字符。", "密码至少需要 {minimum} 个字符。", "messages.users.password_short: unknown placeholder {minimum}"},
		{"a label missing", "    paid: 已缴费\n", "", "labels.status.paid is missing"},
		{"a label for nothing", "    paid: 已缴费\n", "    paid: 已缴费\n    approved: 已批准\n", "labels.status.approved is not a key the console uses"},
		{"a table missing", "  ticket_state:\n    open: 待回复\n    answered: 已回复\n    closed: 已关闭\n", "", "labels.ticket_state.open is missing"},
		{"an unknown table", "labels:\n", "labels:\n  colour:\n    red: 红\n", "labels.colour is not a table the console uses"},
		{"a column missing", "    payment_url: [缴费链接, 缴费地址]\n", "", "import.columns.payment_url is missing"},
		{"a word for two statuses", "paid: [缴费成功, 已缴费]", "paid: [缴费成功, 已缴费, 待审核]", "is also a word of"},
		{"not a status", "    withdrawn: [已撤销", "    approved: [已批准]\n    withdrawn: [已撤销", "import.statuses.approved is not a status"},
		{"an unknown field", "labels:\n", "label:\n  x: y\nlabels:\n", "field label not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("the catalog has no %q to change", tc.old)
			}
			_, err := loadCatalog([]byte(strings.Replace(good, tc.old, tc.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestMessagesFillPlaceholders: msg fills a message's placeholders.
func TestMessagesFillPlaceholders(t *testing.T) {
	if got, want := msg("users.password_short", "min", "10"), "密码至少需要 10 个字符。"; got != want {
		t.Errorf("msg = %q, want %q", got, want)
	}
	if got, want := waited(90*time.Minute), "1 小时 30 分钟"; got != want {
		t.Errorf("waited = %q, want %q", got, want)
	}
}
