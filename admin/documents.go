package admin

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"regbot/dialogs"
	"regbot/store"
)

// Materials review: staff see each upload (decrypted on the fly, never
// cached by the browser), accept it, or reject it with a reason — which
// reaches the candidate on their channel and asks for the material again —
// and download the material package once every material is accepted.

// maxReasonRunes bounds a rejection's reason (the candidate reads it).
const maxReasonRunes = 200

// documentOf reads the {candidate} and {document} of the path and finds
// the document.
func (c *Console) documentOf(w http.ResponseWriter, r *http.Request) (int64, store.DocumentRecord, bool) {
	cand, err1 := strconv.ParseInt(r.PathValue("candidate"), 10, 64)
	doc, err2 := strconv.ParseInt(r.PathValue("document"), 10, 64)
	if err1 != nil || err2 != nil {
		c.notFound(w, r)
		return 0, store.DocumentRecord{}, false
	}
	d, err := c.deps.Store.CandidateDocument(r.Context(), cand, doc)
	if errors.Is(err, store.ErrNotFound) {
		c.notFound(w, r)
		return 0, store.DocumentRecord{}, false
	} else if err != nil {
		c.fail(w, r, err)
		return 0, store.DocumentRecord{}, false
	}
	return cand, d, true
}

// preview serves a document's image to the session its link was made for.
func (c *Console) preview(w http.ResponseWriter, r *http.Request) {
	who := staffOf(r)
	docID, err := strconv.ParseInt(r.PathValue("document"), 10, 64)
	if err != nil || !sameToken(r.URL.Query().Get("k"), previewKeyFor(who.session, "document", docID)) {
		c.audit(r, "document.denied", "document:"+r.PathValue("document"), "link of another session")
		c.renderError(w, r, http.StatusForbidden, msg("document.link"))
		return
	}
	cand, d, ok := c.documentOf(w, r)
	if !ok {
		return
	}
	c.audit(r, "document.view", "candidate:"+strconv.FormatInt(cand, 10), "document "+strconv.FormatInt(d.ID, 10)+" "+d.Material)
	c.serveImage(w, r, d.BlobRef, d.At)
}

// serveImage decrypts a stored image and serves it, never to be cached.
func (c *Console) serveImage(w http.ResponseWriter, r *http.Request, ref string, at time.Time) {
	data, err := c.deps.Blobs.Get(r.Context(), ref)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ctype := http.DetectContentType(data)
	if !strings.HasPrefix(ctype, "image/") {
		ctype = "application/octet-stream"
	}
	h := w.Header()
	setSecurityHeaders(h)
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", "inline")
	h.Set("Cache-Control", "no-store, private")
	http.ServeContent(w, r, "", at, bytes.NewReader(data))
}

// review accepts or rejects a document. A rejection is a system turn: the
// candidate hears the reason on their channel and is asked for the
// material again; the document keeps the verdict.
func (c *Console) review(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cand, d, ok := c.documentOf(w, r)
	if !ok {
		return
	}
	back := "/admin/candidates/" + strconv.FormatInt(cand, 10)
	if !d.SupersededAt.IsZero() {
		c.renderError(w, r, http.StatusConflict, msg("document.superseded"))
		return
	}
	who := staffOf(r)
	f := r.PostForm
	rv := store.DocumentReview{DocumentID: d.ID, StaffID: who.user.ID, At: c.now()}
	target := "candidate:" + strconv.FormatInt(cand, 10)
	switch f.Get("verdict") {
	case store.ReviewAccepted:
		rv.Verdict = store.ReviewAccepted
		if err := c.deps.Store.ReviewDocument(ctx, cand, rv); err != nil {
			c.fail(w, r, err)
			return
		}
		c.audit(r, "document.accept", target, "document "+strconv.FormatInt(d.ID, 10)+" "+d.Material)
		http.Redirect(w, r, back+"?done=accepted#materials", http.StatusSeeOther)
		return
	case store.ReviewRejected:
	default:
		c.renderError(w, r, http.StatusBadRequest, msg("document.choose"))
		return
	}
	reason := strings.TrimSpace(f.Get("reason_other"))
	if reason == "" {
		reason = strings.TrimSpace(f.Get("reason"))
	}
	nonce := f.Get("nonce")
	switch {
	case reason == "" || utf8.RuneCountInString(reason) > maxReasonRunes:
		c.renderError(w, r, http.StatusUnprocessableEntity, msg("document.reason_required", "max", strconv.Itoa(maxReasonRunes)))
		return
	case len(nonce) < 16 || len(nonce) > 64:
		c.renderError(w, r, http.StatusBadRequest, msg("error.stale_page"))
		return
	}
	rec, err := c.deps.Store.CandidateRecord(ctx, cand, c.plan.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if len(rec.Identities) == 0 {
		c.renderError(w, r, http.StatusConflict, msg("document.no_channel"))
		return
	}
	id := rec.Identities[0]
	if s, err := c.deps.Engine.Unmarshal(rec.Session); err == nil {
		id.Identity = s.Identity() // the channel the conversation is on
	}
	in := dialogs.Inbound{Channel: id.Channel, UserID: id.UserID, MsgID: "console:" + nonce,
		System: &dialogs.SystemEvent{Actor: who.actor(), Reopen: []string{d.Material}, Reason: reason}}
	done := "rejected"
	if _, err := c.deps.Turns.Handle(ctx, in); c.deps.IsDuplicate(err) {
		done = "duplicate"
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	rv.Verdict, rv.Reason = store.ReviewRejected, reason
	if err := c.deps.Store.ReviewDocument(ctx, cand, rv); err != nil {
		c.fail(w, r, err)
		return
	}
	if done != "duplicate" {
		c.audit(r, "document.reject", target, "document "+strconv.FormatInt(d.ID, 10)+" "+d.Material+": "+reason)
	}
	http.Redirect(w, r, back+"?done="+done+"#materials", http.StatusSeeOther)
}

// materialPackage downloads the candidate's material package once every
// material of their condition is accepted by staff.
func (c *Console) materialPackage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cand, err := strconv.ParseInt(r.PathValue("candidate"), 10, 64)
	if err != nil {
		c.notFound(w, r)
		return
	}
	rec, err := c.deps.Store.CandidateRecord(ctx, cand, c.plan.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && rec.Session == nil {
		c.notFound(w, r)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	if !c.allAccepted(rec) {
		c.renderError(w, r, http.StatusConflict, msg("document.package_incomplete"))
		return
	}
	c.audit(r, "package.download", "candidate:"+strconv.FormatInt(cand, 10), "")
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="materials.zip"`)
	h.Set("Cache-Control", "no-store")
	// Streamed: a failure half-way leaves a broken zip the browser
	// reports, and the log says why.
	if err := c.deps.Packages.Write(ctx, w, rec.Session); err != nil {
		c.log.Error("console material package", "err", err)
	}
}

// allAccepted reports whether every material the candidate's condition
// needs has a current document staff accepted (or is staff's to decide).
func (c *Console) allAccepted(rec store.CandidateRecord) bool {
	cond, ok := c.plan.Condition(rec.Application.Condition)
	if !ok {
		return false
	}
	var escalated map[string]dialogs.MaterialState
	if s, err := c.deps.Engine.Unmarshal(rec.Session); err == nil {
		escalated = s.Materials
	}
	current := map[string]store.DocumentRecord{}
	for _, d := range rec.Documents {
		if d.SupersededAt.IsZero() {
			current[d.Material] = d
		}
	}
	for _, key := range cond.Materials {
		d, ok := current[key]
		switch {
		case ok && d.Review == store.ReviewAccepted:
		case !ok && escalated[key].Escalated:
		default:
			return false
		}
	}
	return true
}
