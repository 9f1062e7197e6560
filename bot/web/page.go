package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed page.html
var pageHTML string

//go:embed static
var staticFiles embed.FS

// pageCSP lets the page run only its own script and style, load images from
// itself (and local previews), and talk only to its own API.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// pageData fills page.html.
type pageData struct {
	Base           string
	Version        string
	MaxUploadBytes int64
	MaxUploadText  string
	MaxTextRunes   int
	// T are the page's sentences; Texts the same as JSON for the script.
	T     texts
	Texts string
}

// parsePage parses the page template and hashes the static files.
func parsePage() (*template.Template, string, error) {
	t, err := template.New("page").Parse(pageHTML)
	if err != nil {
		return nil, "", fmt.Errorf("web chat page: %w", err)
	}
	h := sha256.New()
	err = fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("web chat static files: %w", err)
	}
	return t, hex.EncodeToString(h.Sum(nil))[:12], nil
}

// servePage renders the chat page and (re)sets the visitor's cookies, so a
// returning visitor keeps their identity for another cookieMaxAge.
func (c *Chat) servePage(w http.ResponseWriter, r *http.Request) {
	v := c.visitor(w, r)
	if !v.fresh {
		c.setCookies(w, r, v.id)
	}
	var buf bytes.Buffer
	err := c.page.Execute(&buf, pageData{
		Base: c.cfg.Path, Version: c.version,
		MaxUploadBytes: c.cfg.MaxUploadBytes, MaxUploadText: formatBytes(c.cfg.MaxUploadBytes),
		MaxTextRunes: c.cfg.MaxTextRunes,
		T:            c.texts, Texts: c.texts.pageTexts(c.cfg.MaxTextRunes, formatBytes(c.cfg.MaxUploadBytes)),
	})
	if err != nil {
		c.log.Error("render chat page", "err", err)
		http.Error(w, c.texts.say("web_busy"), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	setSecurityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (c *Chat) redirectToPage(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, c.cfg.Path, http.StatusMovedPermanently)
}

// serveStatic serves the embedded script and stylesheet. Their URLs carry
// the content hash, so browsers may cache them for long.
func (c *Chat) serveStatic() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	files := http.StripPrefix(c.cfg.Path+"/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		setSecurityHeaders(w.Header())
		w.Header().Set("Cache-Control", "public, max-age=604800")
		files.ServeHTTP(w, r)
	})
}
