package main

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// refuseBadInput answers 400 to a request whose path, query or form fields
// hold NUL or invalid UTF-8: no handler can use them, and PostgreSQL
// refuses NUL in text (an error that would otherwise be a 500). The
// handlers still check what they accept; this keeps undecodable input
// from reaching any of them.
func refuseBadInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !cleanText(r.URL.Path) || !cleanText(r.URL.RawPath) || !cleanValues(r.URL.RawQuery) {
			http.Error(w, "bad request: NUL or invalid UTF-8", http.StatusBadRequest)
			return
		}
		if r.Method == http.MethodPost && r.Body != nil && isForm(r.Header.Get("Content-Type")) {
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad request: unreadable form", http.StatusBadRequest)
				return
			}
			for k, vs := range r.PostForm {
				if !cleanText(k) || !cleanAll(vs) {
					http.Error(w, "bad request: NUL or invalid UTF-8", http.StatusBadRequest)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// isForm reports whether a Content-Type is a URL-encoded form. Only such
// a type is parsed (mime.ParseMediaType builds a map): every webhook post
// passes here.
func isForm(contentType string) bool {
	const form = "application/x-www-form-urlencoded"
	if !strings.Contains(strings.ToLower(contentType), form) {
		return false
	}
	ct, _, _ := mime.ParseMediaType(contentType)
	return ct == form
}

// cleanValues reports whether every key and value of a query is clean
// (cleanText); an unparsable query is left to the handler.
func cleanValues(raw string) bool {
	if !strings.ContainsAny(raw, "%+") {
		// Nothing is escaped (the platforms' signed queries): the keys and
		// values are raw's pieces between ASCII separators, clean exactly
		// when raw is, and the query needs no parsing (a map and a string
		// per field).
		return cleanText(raw)
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return cleanText(raw)
	}
	for k, vs := range q {
		if !cleanText(k) || !cleanAll(vs) {
			return false
		}
	}
	return true
}

func cleanAll(vs []string) bool {
	for _, v := range vs {
		if !cleanText(v) {
			return false
		}
	}
	return true
}

// cleanText reports whether s is valid UTF-8 without NUL.
func cleanText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
