package admin

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"regbot/broadcasts"
	"regbot/dialogs"
	"regbot/store"
)

// Broadcasts (admins only): write a broadcast with a filter or a saved
// segment, preview whom it reaches and how it looks on each channel, send
// it now or at a time, watch its counts live, pause, resume or cancel it,
// download its per-recipient report. Package broadcasts does the work.

// maxUploadBytes bounds a broadcast form with its image.
const maxUploadBytes = broadcasts.MaxImageBytes + 256<<10

// broadcastRoutes mounts the broadcast pages (when the console has a
// broadcast service).
func (c *Console) broadcastRoutes(mux Mux) {
	mux.Handle("GET /admin/broadcasts", c.Admin(c.broadcastList))
	mux.Handle("GET /admin/broadcasts/new", c.Admin(c.broadcastNew))
	mux.Handle("POST /admin/broadcasts", c.adminUpload(c.broadcastCreate))
	mux.Handle("GET /admin/broadcasts/{broadcast}", c.Admin(c.broadcastPage))
	mux.Handle("GET /admin/broadcasts/{broadcast}/live", c.Admin(c.broadcastLive))
	mux.Handle("GET /admin/broadcasts/{broadcast}/image", c.Admin(c.broadcastImage))
	mux.Handle("GET /admin/broadcasts/{broadcast}/report.csv", c.Admin(c.broadcastReport))
	mux.Handle("POST /admin/broadcasts/{broadcast}/{action}", c.Admin(c.broadcastAction))
	mux.Handle("POST /admin/segments", c.Admin(c.segmentSave))
	mux.Handle("POST /admin/segments/delete", c.Admin(c.segmentDelete))
}

// broadcastForm is what the compose form holds.
type broadcastForm struct {
	Title, Filter, Segment, Body string
	ImageName                    string
}

// composeData fills the compose page.
type composeData struct {
	Form     broadcastForm
	Segments []store.Segment
	Fields   []string
	Problems []string
	// Preview is set after 预览.
	Preview  *broadcasts.Preview
	Channels []channelPreview
}

// channelPreview is how the message looks on one channel.
type channelPreview struct {
	Channel string
	Text    string
	Image   string
}

// broadcastListData fills the broadcasts page.
type broadcastListData struct {
	Broadcasts []store.Broadcast
	Segments   []store.Segment
	Problem    string
}

func (c *Console) broadcastList(w http.ResponseWriter, r *http.Request) {
	c.renderBroadcastList(w, r, http.StatusOK, "")
}

func (c *Console) renderBroadcastList(w http.ResponseWriter, r *http.Request, status int, problem string) {
	svc := c.deps.Broadcasts
	list, err := svc.Broadcasts(r.Context(), 100)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	segs, err := svc.Segments(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.renderPage(w, r, status, "broadcasts", pageBody{Data: broadcastListData{Broadcasts: list, Segments: segs, Problem: problem}})
}

func (c *Console) broadcastNew(w http.ResponseWriter, r *http.Request) {
	form := broadcastForm{Segment: r.URL.Query().Get("segment")}
	if form.Segment == "" {
		form.Filter = `status == "awaiting_payment"`
	}
	c.renderCompose(w, r, http.StatusOK, composeData{Form: form})
}

func (c *Console) renderCompose(w http.ResponseWriter, r *http.Request, status int, data composeData) {
	segs, err := c.deps.Broadcasts.Segments(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data.Segments, data.Fields = segs, broadcasts.FieldNames
	c.renderPage(w, r, status, "broadcast_new", pageBody{Data: data})
}

// broadcastCreate previews the form (button 预览) or saves it as a draft
// (保存草稿) and opens it.
func (c *Console) broadcastCreate(w http.ResponseWriter, r *http.Request) {
	who, _, _ := SignedIn(r)
	f := r.PostForm
	form := broadcastForm{Title: f.Get("title"), Segment: f.Get("segment"), Filter: f.Get("filter"), Body: f.Get("body")}
	if form.Segment != "" {
		form.Filter = ""
	}
	image, name, err := formImage(r)
	if err != nil {
		c.renderCompose(w, r, http.StatusUnprocessableEntity, composeData{Form: form, Problems: []string{err.Error()}})
		return
	}
	form.ImageName = name
	if f.Get("do") == "preview" {
		p, err := c.deps.Broadcasts.Preview(r.Context(), form.Filter, form.Segment, form.Body)
		if err != nil {
			c.renderCompose(w, r, http.StatusUnprocessableEntity, composeData{Form: form, Problems: problemLines(err)})
			return
		}
		data := composeData{Form: form, Preview: &p, Channels: channelPreviews(p, form.Body, name)}
		if p.Matches == 0 {
			data.Problems = []string{msg("broadcast.no_match_preview")}
		}
		c.renderCompose(w, r, http.StatusOK, data)
		return
	}
	b, err := c.deps.Broadcasts.Create(r.Context(), broadcasts.Draft{Title: form.Title, Filter: form.Filter,
		Segment: form.Segment, Body: form.Body, Image: image, ImageName: name, CreatedBy: who.ID})
	if err != nil {
		if isInputError(err) {
			c.renderCompose(w, r, http.StatusUnprocessableEntity, composeData{Form: form, Problems: problemLines(err)})
			return
		}
		c.fail(w, r, err)
		return
	}
	c.Audit(r, "broadcast.create", broadcastTarget(b.ID), b.Title)
	http.Redirect(w, r, fmt.Sprintf("/admin/broadcasts/%d?done=broadcast_saved", b.ID), http.StatusSeeOther)
}

// formImage reads the form's image, if any.
func formImage(r *http.Request) ([]byte, string, error) {
	if r.MultipartForm == nil {
		return nil, "", nil
	}
	f, h, err := r.FormFile("image")
	if errors.Is(err, http.ErrMissingFile) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", errors.New(msg("broadcast.image_unreadable"))
	}
	defer f.Close()
	if h.Size == 0 {
		return nil, "", nil
	}
	data, err := io.ReadAll(io.LimitReader(f, broadcasts.MaxImageBytes+1))
	if err != nil {
		return nil, "", errors.New(msg("broadcast.image_unreadable"))
	}
	return data, h.Filename, nil
}

func isInputError(err error) bool {
	return errors.Is(err, broadcasts.ErrFilter) || errors.Is(err, broadcasts.ErrTemplate) ||
		errors.Is(err, broadcasts.ErrInvalid)
}

// problemLines are err's lines for the page: expr's message as it is.
func problemLines(err error) []string {
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// channelPreviews show the first match's message (or the text as written)
// on each channel; the page says how each channel sends it.
func channelPreviews(p broadcasts.Preview, body, image string) []channelPreview {
	text := body
	if len(p.Sample) > 0 {
		text = p.Sample[0].Text
	}
	var out []channelPreview
	for _, ch := range []string{"wechat", "telegram", "web"} {
		out = append(out, channelPreview{Channel: ch, Text: text, Image: image})
	}
	return out
}

// broadcastData fills a broadcast's page.
type broadcastData struct {
	B        store.Broadcast
	Preview  *broadcasts.Preview
	Progress progressView
	Problem  string
	// Now is the default of the schedule field (China time).
	Now string
}

// progressView is a broadcast's counts as the page shows them.
type progressView struct {
	ID    int64
	State store.BroadcastState
	P     store.BroadcastProgress
	// Rate is the last seconds' rate or, once Finished, the whole
	// broadcast's average.
	Rate     string
	Percent  int
	Reasons  []reasonCount
	Finished bool
}

type reasonCount struct {
	Reason string
	Count  int
}

func (c *Console) progressOf(r *http.Request, b store.Broadcast) (progressView, error) {
	p, err := c.deps.Broadcasts.Progress(r.Context(), b.ID)
	if err != nil {
		return progressView{}, err
	}
	v := progressView{ID: b.ID, State: b.State, P: p, Rate: strconv.FormatFloat(broadcasts.CurrentRate(b, p, c.now()), 'f', 1, 64),
		Finished: b.State == store.BroadcastDone || b.State == store.BroadcastCancelled}
	if v.Finished {
		v.Rate = strconv.FormatFloat(broadcasts.AverageRate(b, p), 'f', 1, 64)
	}
	if p.Total > 0 {
		v.Percent = p.Finished() * 100 / p.Total
	}
	for _, k := range broadcastFailureKeys {
		if n := p.Reasons[k]; n > 0 {
			v.Reasons = append(v.Reasons, reasonCount{label("broadcast_failure", k), n})
		}
	}
	return v, nil
}

// broadcastOf is the request's broadcast, or an error page.
func (c *Console) broadcastOf(w http.ResponseWriter, r *http.Request) (store.Broadcast, bool) {
	id, err := strconv.ParseInt(r.PathValue("broadcast"), 10, 64)
	if err == nil {
		var b store.Broadcast
		if b, err = c.deps.Broadcasts.Broadcast(r.Context(), id); err == nil {
			return b, true
		}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, strconv.ErrSyntax) {
		c.fail(w, r, err)
		return store.Broadcast{}, false
	}
	c.renderError(w, r, http.StatusNotFound, msg("broadcast.not_found"))
	return store.Broadcast{}, false
}

func (c *Console) broadcastPage(w http.ResponseWriter, r *http.Request) {
	b, ok := c.broadcastOf(w, r)
	if !ok {
		return
	}
	c.renderBroadcast(w, r, http.StatusOK, b, "")
}

func (c *Console) renderBroadcast(w http.ResponseWriter, r *http.Request, status int, b store.Broadcast, problem string) {
	data := broadcastData{B: b, Problem: problem, Now: c.now().In(dialogs.ChinaTime).Add(time.Hour).Format("2006-01-02T15:04")}
	if b.State == store.BroadcastDraft || b.State == store.BroadcastScheduled {
		p, err := c.deps.Broadcasts.Preview(r.Context(), b.Filter, "", b.Body)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		data.Preview = &p
	}
	var err error
	if data.Progress, err = c.progressOf(r, b); err != nil {
		c.fail(w, r, err)
		return
	}
	c.renderPage(w, r, status, "broadcast", pageBody{Data: data})
}

// broadcastLive is the counts fragment the page refreshes.
func (c *Console) broadcastLive(w http.ResponseWriter, r *http.Request) {
	b, ok := c.broadcastOf(w, r)
	if !ok {
		return
	}
	v, err := c.progressOf(r, b)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.renderFragment(w, r, "broadcast", "progress", v)
}

// broadcastImage shows the broadcast's image.
func (c *Console) broadcastImage(w http.ResponseWriter, r *http.Request) {
	b, ok := c.broadcastOf(w, r)
	if !ok {
		return
	}
	if b.ImageRef == "" {
		c.notFound(w, r)
		return
	}
	data, err := c.deps.Blobs.Get(r.Context(), b.ImageRef)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", http.DetectContentType(data))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(data)
}

// broadcastReport downloads the per-recipient CSV.
func (c *Console) broadcastReport(w http.ResponseWriter, r *http.Request) {
	b, ok := c.broadcastOf(w, r)
	if !ok {
		return
	}
	c.Audit(r, "broadcast.report", broadcastTarget(b.ID), "")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="broadcast-%d.csv"`, b.ID))
	if err := c.deps.Broadcasts.Report(r.Context(), b.ID, w); err != nil {
		c.log.Error("broadcast report", "broadcast", b.ID, "err", err)
	}
}

// broadcastAction sends, schedules, pauses, resumes or cancels.
func (c *Console) broadcastAction(w http.ResponseWriter, r *http.Request) {
	b, ok := c.broadcastOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	svc := c.deps.Broadcasts
	var (
		err   error
		flash string
	)
	switch action := r.PathValue("action"); action {
	case "send":
		var at time.Time
		if s := r.PostForm.Get("at"); s != "" && r.PostForm.Get("when") == "later" {
			if at, err = time.ParseInLocation("2006-01-02T15:04", s, dialogs.ChinaTime); err != nil {
				c.renderBroadcast(w, r, http.StatusUnprocessableEntity, b, msg("broadcast.bad_time"))
				return
			}
			if !at.After(c.now()) {
				c.renderBroadcast(w, r, http.StatusUnprocessableEntity, b, msg("broadcast.past_time"))
				return
			}
		}
		var n int
		n, err = svc.Send(ctx, b.ID, at)
		flash = "broadcast_sending"
		if !at.IsZero() {
			flash = "broadcast_scheduled"
		}
		if err == nil {
			c.Audit(r, "broadcast.send", broadcastTarget(b.ID), fmt.Sprintf("%d recipients %s", n, r.PostForm.Get("at")))
		}
	case "pause":
		err, flash = svc.Pause(ctx, b.ID), "broadcast_paused"
	case "resume":
		err, flash = svc.Resume(ctx, b.ID), "broadcast_resumed"
	case "cancel":
		_, err = svc.Cancel(ctx, b.ID)
		flash = "broadcast_cancelled"
	default:
		c.notFound(w, r)
		return
	}
	switch {
	case errors.Is(err, broadcasts.ErrNoRecipients):
		c.renderBroadcast(w, r, http.StatusConflict, b, msg("broadcast.no_match_send"))
		return
	case errors.Is(err, store.ErrConflict):
		fresh, _ := svc.Broadcast(ctx, b.ID)
		c.renderBroadcast(w, r, http.StatusConflict, fresh, msg("broadcast.state_changed"))
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	if r.PathValue("action") != "send" {
		c.Audit(r, "broadcast."+r.PathValue("action"), broadcastTarget(b.ID), "")
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/broadcasts/%d?done=%s", b.ID, flash), http.StatusSeeOther)
}

func broadcastTarget(id int64) string { return "broadcast:" + strconv.FormatInt(id, 10) }

// segmentSave saves a filter under a name.
func (c *Console) segmentSave(w http.ResponseWriter, r *http.Request) {
	who, _, _ := SignedIn(r)
	name, filter := r.PostForm.Get("name"), r.PostForm.Get("filter")
	if _, err := c.deps.Broadcasts.SaveSegment(r.Context(), name, filter, who.ID); err != nil {
		if isInputError(err) {
			c.renderBroadcastList(w, r, http.StatusUnprocessableEntity, msg("broadcast.segment_not_saved", "problem", err.Error()))
			return
		}
		c.fail(w, r, err)
		return
	}
	c.Audit(r, "segment.save", "segment:"+name, filter)
	http.Redirect(w, r, "/admin/broadcasts?done=segment", http.StatusSeeOther)
}

// segmentDelete deletes a saved segment.
func (c *Console) segmentDelete(w http.ResponseWriter, r *http.Request) {
	name := r.PostForm.Get("name")
	if err := c.deps.Broadcasts.DeleteSegment(r.Context(), name); err != nil && !errors.Is(err, store.ErrNotFound) {
		c.fail(w, r, err)
		return
	}
	c.Audit(r, "segment.delete", "segment:"+name, "")
	http.Redirect(w, r, "/admin/broadcasts?done=segment_deleted", http.StatusSeeOther)
}
