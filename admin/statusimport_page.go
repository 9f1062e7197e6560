package admin

import (
	"bytes"
	"errors"
	"net/http"
	"strings"

	"regbot/store"
)

// The bulk status page (admins): the official system's export uploaded as
// a CSV file and applied as `regbot status import` applies it — a dry run
// first by default, then for real. Each applied row is a system turn by
// the admin (actor staff:<id>), so the candidates are told as usual.

// maxImportBytes bounds an uploaded export (100,000 rows are about 6 MB).
const maxImportBytes = 32 << 20

// maxImportLines bounds the problem lines the page shows.
const maxImportLines = 200

// importData fills the page.
type importData struct {
	// Done says a file was just imported; DryRun whether as a dry run.
	Done   bool
	DryRun bool
	File   string
	Report ImportReport
	// Lines are the rows not applied, by line number (no personal data).
	Lines    []string
	More     int
	Problem  string
	Encoding string
}

func (c *Console) statusImportRoutes(mux Mux) {
	mux.Handle("GET /admin/statuses", c.Admin(c.statusImportPage))
	mux.Handle("POST /admin/statuses", c.authedForm(store.RoleAdmin, maxImportBytes, c.statusImportRun))
}

func (c *Console) statusImportPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, "statuses", importData{DryRun: true})
}

// statusImportRun applies (or tries) the uploaded file.
func (c *Console) statusImportRun(w http.ResponseWriter, r *http.Request) {
	d := importData{DryRun: r.PostForm.Get("dry_run") == "1", Encoding: r.PostForm.Get("encoding")}
	switch d.Encoding {
	case "", "utf-8", "gbk":
	default:
		d.Encoding = ""
	}
	f, fh, err := r.FormFile("file")
	if err != nil {
		d.Problem = msg("import.no_file")
		c.renderPage(w, r, http.StatusUnprocessableEntity, "statuses", pageBody{Data: d})
		return
	}
	defer f.Close()
	d.File = fh.Filename
	who := staffOf(r)
	var out bytes.Buffer
	rep, err := c.deps.StatusImport.Import(r.Context(), f, ImportOptions{DryRun: d.DryRun, Actor: who.actor(), Encoding: d.Encoding}, &out)
	if errors.Is(err, ErrBadFile) {
		d.Problem = msg("import.bad_file", "problem", err.Error())
		c.audit(r, "status.import", "file", "refused: "+err.Error())
		c.renderPage(w, r, http.StatusUnprocessableEntity, "statuses", pageBody{Data: d})
		return
	} else if err != nil && rep.Rows == 0 {
		c.fail(w, r, err)
		return
	}
	d.Done, d.Report = true, rep
	if err != nil {
		d.Problem = msg("import.interrupted", "problem", err.Error())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	lines = lines[:len(lines)-1] // the last is the summary
	if len(lines) > maxImportLines {
		d.Lines, d.More = lines[:maxImportLines], len(lines)-maxImportLines
	} else {
		d.Lines = lines
	}
	action := "status.import"
	if d.DryRun {
		action = "status.import.dry_run"
	}
	c.audit(r, action, "file", rep.String())
	c.render(w, r, "statuses", d)
}
