package broadcasts

import (
	"errors"
	"fmt"
	"strings"
)

// Placeholders are the per-candidate values a broadcast's text may name:
// {name}, {status} (the plan's wording of the candidate's status) and
// {payment_link} (their payment page, or the plan's). A placeholder may
// carry a default for candidates without the value: {name|考生}.
var Placeholders = []string{"name", "status", "payment_link"}

// ErrTemplate is wrapped by every error of a text that cannot be used.
var ErrTemplate = errors.New("text")

// Template is a broadcast's text, parsed.
type Template struct {
	parts []part
}

// part is literal text, or a placeholder with its default.
type part struct {
	text        string
	placeholder string
	fallback    string
}

// Values are one candidate's placeholder values.
type Values map[string]string

// ParseTemplate parses body: text with {placeholder} or
// {placeholder|default}. An unknown placeholder, an unclosed brace or an
// empty text is an error wrapping ErrTemplate.
func ParseTemplate(body string) (*Template, error) {
	if strings.TrimSpace(body) == "" {
		return nil, fmt.Errorf("%w: empty", ErrTemplate)
	}
	t := &Template{}
	rest := body
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			t.parts = append(t.parts, part{text: rest})
			break
		}
		if open > 0 {
			t.parts = append(t.parts, part{text: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("%w: \"{\" without \"}\" in %q", ErrTemplate, clip(rest[open:]))
		}
		inner := rest[open+1 : open+end]
		name, fallback, _ := strings.Cut(inner, "|")
		name = strings.TrimSpace(name)
		if !known(name) {
			return nil, fmt.Errorf("%w: unknown placeholder {%s} (known: {%s})", ErrTemplate, inner, strings.Join(Placeholders, "}, {"))
		}
		t.parts = append(t.parts, part{placeholder: name, fallback: fallback})
		rest = rest[open+end+1:]
	}
	return t, nil
}

func known(name string) bool {
	for _, p := range Placeholders {
		if p == name {
			return true
		}
	}
	return false
}

func clip(s string) string {
	r := []rune(s)
	if len(r) > 20 {
		return string(r[:20]) + "…"
	}
	return s
}

// Render fills in v; a value missing or empty takes the placeholder's
// default.
func (t *Template) Render(v Values) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.placeholder == "" {
			b.WriteString(p.text)
			continue
		}
		if s := v[p.placeholder]; s != "" {
			b.WriteString(s)
		} else {
			b.WriteString(p.fallback)
		}
	}
	return b.String()
}
