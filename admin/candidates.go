package admin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"regbot/dialogs"
	"regbot/store"
)

// Candidates: the list with its filters, paging and CSV export, and a
// candidate's page with everything the record holds about them. ID numbers
// and mobiles are masked everywhere but the candidate page, whose every
// view is in the audit log.

// A search text that is a mobile or an ID number is looked up exactly
// (FindApplications, by its blind index), never matched as a substring.
var (
	mobilePattern   = regexp.MustCompile(`^1\d{10}$`)
	idNumberPattern = regexp.MustCompile(`^(\d{15}|\d{17}[\dX])$`)
)

// listQuery is the candidate list's filter as the page's form sends it.
type listQuery struct {
	Status    string
	Condition string
	Channel   string
	Waiting   bool
	Since     string
	Q         string
	Page      int
}

func parseListQuery(q url.Values) listQuery {
	lq := listQuery{Status: q.Get("status"), Condition: q.Get("condition"), Channel: q.Get("channel"),
		Waiting: q.Get("waiting") == "1", Since: q.Get("since"), Q: strings.TrimSpace(q.Get("q"))}
	lq.Page, _ = strconv.Atoi(q.Get("page"))
	lq.Page = max(lq.Page, 1)
	return lq
}

// values is the query back as URL values (for paging links and the export).
func (lq listQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"status": lq.Status, "condition": lq.Condition, "channel": lq.Channel, "since": lq.Since, "q": lq.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if lq.Waiting {
		v.Set("waiting", "1")
	}
	return v
}

// filter turns the query into the store's filter; a mobile or an ID
// number is looked up first.
func (c *Console) filter(r *http.Request, lq listQuery) (store.CandidateFilter, error) {
	f := store.CandidateFilter{PlanID: c.plan.ID, Status: store.Status(lq.Status), Condition: lq.Condition,
		Channel: lq.Channel, Waiting: lq.Waiting}
	if t, err := time.ParseInLocation(time.DateOnly, lq.Since, dialogs.ChinaTime); err == nil {
		f.UpdatedSince = t
	}
	q := strings.ToUpper(lq.Q)
	key := store.LookupKey("")
	switch {
	case mobilePattern.MatchString(q):
		key = store.LookupMobile
	case idNumberPattern.MatchString(q):
		key = store.LookupIDNumber
	}
	switch {
	case q == "":
	case key != "":
		refs, err := c.deps.Store.FindApplications(r.Context(), c.plan.ID, key, q)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return f, err
		}
		f.Candidates = []int64{} // not nil: nobody found lists nobody
		for _, ref := range refs {
			f.Candidates = append(f.Candidates, ref.CandidateID)
		}
	default:
		f.Text, f.TextKeys = lq.Q, []string{c.keys.name}
	}
	return f, nil
}

// listData fills the candidate list.
type listData struct {
	Rows       []store.CandidateRow
	Total      int
	Query      listQuery
	Statuses   []store.Status
	Conditions []dialogs.Condition
	Channels   []string
	Prev, Next string
	Export     string
	First      int
	Last       int
}

func (c *Console) candidateList(w http.ResponseWriter, r *http.Request) {
	lq := parseListQuery(r.URL.Query())
	f, err := c.filter(r, lq)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	f.Limit, f.Offset = c.cfg.PageSize, (lq.Page-1)*c.cfg.PageSize
	rows, total, err := c.deps.Store.CandidateList(r.Context(), f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := listData{Rows: rows, Total: total, Query: lq, Statuses: store.Statuses(), Conditions: c.plan.Conditions,
		Channels: []string{"wechat", "telegram", "web"}, First: f.Offset + 1, Last: f.Offset + len(rows)}
	page := func(n int) string {
		v := lq.values()
		v.Set("page", strconv.Itoa(n))
		return "/admin/candidates?" + v.Encode()
	}
	if lq.Page > 1 {
		d.Prev = page(lq.Page - 1)
	}
	if f.Offset+len(rows) < total {
		d.Next = page(lq.Page + 1)
	}
	d.Export = "/admin/candidates.csv?" + lq.values().Encode()
	c.render(w, r, "candidates", d)
}

// candidateCSV exports the filtered list (all pages), masked as in the
// list, UTF-8 with a BOM so that Excel reads the Chinese.
func (c *Console) candidateCSV(w http.ResponseWriter, r *http.Request) {
	lq := parseListQuery(r.URL.Query())
	f, err := c.filter(r, lq)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rows, _, err := c.deps.Store.CandidateList(r.Context(), f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// The audit log (kept unencrypted) says a text was searched for, not
	// the name, mobile or ID number itself.
	logged := lq.values()
	if lq.Q != "" {
		logged.Set("q", "[redacted]")
	}
	c.audit(r, "candidate.export", "candidates", strconv.Itoa(len(rows))+" rows; "+logged.Encode())
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="candidates.csv"; filename*=UTF-8''`+url.PathEscape(msg("candidate.csv_file")))
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("\uFEFF"))
	cw := csv.NewWriter(w)
	header := make([]string, len(csvColumnKeys))
	for i, k := range csvColumnKeys {
		header[i] = label("candidate_csv", k)
	}
	cw.Write(header)
	for _, row := range rows {
		var channels []string
		for _, id := range row.Identities {
			channels = append(channels, orDash(label("channel", id.Channel)))
		}
		cw.Write([]string{
			strconv.FormatInt(row.CandidateID, 10), csvSafe(answerString(row.Answers, c.keys.name)),
			maskID(answerString(row.Answers, c.keys.idNumber)), maskMobile(answerString(row.Answers, c.keys.mobile)),
			strings.Join(channels, " "), c.conditionName(row.Condition), label("status", string(row.Status)),
			strconv.Itoa(row.Waiting), fmtTime(row.CreatedAt), fmtTime(row.UpdatedAt),
		})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		c.log.Warn("candidate export", "err", err)
	}
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// candidateData fills a candidate's page.
type candidateData struct {
	Record      store.CandidateRecord
	Slots       []dialogs.Slot
	Eligibility *dialogs.Eligibility
	Condition   *dialogs.Condition
	// Materials are the chosen condition's materials with their current
	// document; History are the superseded uploads.
	Materials []materialView
	History   []documentView
	// PackageReady says every current document is accepted by staff.
	PackageReady bool
	Deliveries   []deliveryView
	Conversation []conversationItem
	Nonce        string
	Escalated    map[string]bool
	Status       *statusForm
}

// materialView is one material of the candidate's condition.
type materialView struct {
	Key, Name string
	Current   *documentView
	ByStaff   bool
}

// documentView is one document with its preview URL for this session.
type documentView struct {
	store.DocumentRecord
	Preview string
}

// deliveryView is one outbox message with its text.
type deliveryView struct {
	store.Delivery
	Text string
}

// conversationItem is one message of the conversation: the candidate's
// (From) or what the outbox sent them.
type conversationItem struct {
	At   time.Time
	From bool
	Kind string
	Text string
}

func (c *Console) candidatePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("candidate"), 10, 64)
	if err != nil {
		c.notFound(w, r)
		return
	}
	rec, err := c.deps.Store.CandidateRecord(ctx, id, c.plan.ID)
	if errors.Is(err, store.ErrNotFound) {
		c.notFound(w, r)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	d := candidateData{Record: rec, Slots: c.plan.Slots, Status: c.statusForm(rec.Application)}
	if rec.Session != nil {
		if s, err := c.deps.Engine.Unmarshal(rec.Session); err == nil {
			el := c.deps.Engine.Evaluate(s, c.now())
			d.Eligibility = &el
			d.Escalated = map[string]bool{}
			for k, m := range s.Materials {
				d.Escalated[k] = m.Escalated
			}
		}
	}
	who := staffOf(r)
	current := map[string]*documentView{}
	for _, doc := range rec.Documents {
		v := documentView{DocumentRecord: doc, Preview: c.previewURL(who, id, doc.ID)}
		if doc.SupersededAt.IsZero() {
			current[doc.Material] = &v
		} else {
			d.History = append(d.History, v)
		}
	}
	slices.Reverse(d.History)
	d.PackageReady = rec.Session != nil && c.allAccepted(rec)
	if cond, ok := c.plan.Condition(rec.Application.Condition); ok {
		d.Condition = cond
		for _, key := range cond.Materials {
			d.Materials = append(d.Materials, materialView{Key: key, Name: c.materialName(key), Current: current[key], ByStaff: d.Escalated[key]})
		}
	}
	deliveries, err := c.deps.Store.Deliveries(ctx, id, 100)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, del := range deliveries {
		d.Deliveries = append(d.Deliveries, deliveryView{Delivery: del, Text: payloadText(del.Payload)})
	}
	d.Conversation = c.conversation(rec.Inbound, d.Deliveries)
	if d.Nonce, err = randomToken(); err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, "candidate.view", "candidate:"+strconv.FormatInt(id, 10), "")
	c.render(w, r, "candidate", d)
}

// payloadText is the text of an outbox message's parts.
func payloadText(payload []byte) string {
	msgs, err := dialogs.DecodeMessages(payload)
	if err != nil {
		return msg("conversation.unreadable")
	}
	var parts []string
	for _, m := range msgs {
		t := m.Text
		if m.Image != nil {
			t = strings.TrimSpace(t + " " + msg("conversation.image"))
		}
		if m.Link != nil {
			t = strings.TrimSpace(t + " " + m.Link.URL)
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, "\n")
}

// conversation merges the candidate's messages with the bot's answer to
// each and what the outbox sent them besides (notifications, staff
// replies, reminders, broadcasts), oldest first.
func (c *Console) conversation(in []store.InboundMessage, out []deliveryView) []conversationItem {
	// The plan's record_image names the image by its blob reference: the
	// record's, not for reading.
	imagePrefix, _, _ := strings.Cut(c.plan.Text("record_image"), "{ref}")
	var items []conversationItem
	for _, m := range in {
		text := m.Text
		if imagePrefix != "" && strings.HasPrefix(text, imagePrefix) {
			text = msg("conversation.image")
		}
		items = append(items, conversationItem{At: m.At, From: true, Text: text})
		if len(m.Reply) > 0 {
			items = append(items, conversationItem{At: m.At, Kind: msg("conversation.bot"), Text: payloadText(m.Reply)})
		}
	}
	for _, d := range out {
		if d.Kind == store.OutReply {
			continue // part of a turn's answer, shown with its message
		}
		items = append(items, conversationItem{At: d.CreatedAt, Kind: orDash(label("out_kind", string(d.Kind))), Text: d.Text})
	}
	slices.SortStableFunc(items, func(a, b conversationItem) int { return a.At.Compare(b.At) })
	return items[max(0, len(items)-200):]
}

// previewURL is a document's preview link, good for this session only: a
// copied link does nothing in another browser or after signing out.
func (c *Console) previewURL(who *staff, candidate, document int64) string {
	return "/admin/candidates/" + strconv.FormatInt(candidate, 10) + "/documents/" + strconv.FormatInt(document, 10) +
		"?k=" + previewKeyFor(who.session, "document", document)
}

// previewKeyFor signs an image's id with the session's own secret (its
// CSRF token), so the record, not the process, holds the key: any instance
// checks it, and it dies with the session.
func previewKeyFor(s store.StaffSession, kind string, id int64) string {
	mac := hmac.New(sha256.New, []byte(s.CSRF))
	mac.Write([]byte(kind + "\x00" + strconv.FormatInt(id, 10)))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

// statusForm is the status form of a candidate's page: the statuses the
// machine allows from the current one, and what a rejection may re-open.
type statusForm struct {
	To     []store.Status
	Reopen []reopenItem
}

// reopenItem is a material or answer a rejection can ask for again.
type reopenItem struct{ Key, Label string }

func (c *Console) statusForm(app store.Application) *statusForm {
	if c.deps.Statuses == nil {
		return nil
	}
	f := &statusForm{}
	for _, t := range store.Transitions() {
		if t.From == app.Status {
			f.To = append(f.To, t.To)
		}
	}
	if cond, ok := c.plan.Condition(app.Condition); ok {
		for _, key := range cond.Materials {
			f.Reopen = append(f.Reopen, reopenItem{key, c.materialName(key)})
		}
	}
	for _, sl := range c.plan.Slots {
		if sl.Phase == dialogs.PhasePersonal {
			f.Reopen = append(f.Reopen, reopenItem{sl.Key, sl.Label})
		}
	}
	return f
}

// setStatus moves a candidate's application to another status (one
// candidate; bulk changes are the import's): a system turn that checks the
// status machine, notifies the candidate and, for a rejection, walks them
// through the items chosen.
func (c *Console) setStatus(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if c.deps.Statuses == nil {
		c.notFound(w, r)
		return
	}
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
	s, err := c.deps.Engine.Unmarshal(rec.Session)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	f := r.PostForm
	to, err := ParseStatus(f.Get("status"))
	nonce := f.Get("nonce")
	reason := strings.TrimSpace(f.Get("reason"))
	switch {
	case err != nil:
		c.renderError(w, r, http.StatusUnprocessableEntity, msg("status.choose"))
		return
	case len(nonce) < 16 || len(nonce) > 80:
		c.renderError(w, r, http.StatusBadRequest, msg("error.stale_page"))
		return
	case utf8.RuneCountInString(reason) > maxReasonRunes:
		c.renderError(w, r, http.StatusUnprocessableEntity, msg("status.reason_too_long", "max", strconv.Itoa(maxReasonRunes)))
		return
	}
	who := staffOf(r)
	ch := Change{Identity: s.Identity(), From: rec.Application.Status, To: to, Actor: who.actor(), Reason: reason,
		Reopen: f["reopen"], PaymentURL: strings.TrimSpace(f.Get("payment_url")), Key: "console:" + nonce}
	outcome, err := c.deps.Statuses.Apply(ctx, ch)
	back := "/admin/candidates/" + strconv.FormatInt(cand, 10)
	switch outcome {
	case Applied:
		c.audit(r, "status.set", "candidate:"+strconv.FormatInt(cand, 10), string(ch.From)+" → "+string(to)+optional(reason))
		http.Redirect(w, r, back+"?done=status", http.StatusSeeOther)
	case Unchanged:
		http.Redirect(w, r, back+"?done=duplicate", http.StatusSeeOther)
	case Refused:
		problem := msg("status.not_allowed", "from", label("status", string(ch.From)), "to", label("status", string(to)))
		if errors.Is(err, store.ErrReasonRequired) {
			problem = msg("status.reason_required")
		}
		c.renderError(w, r, http.StatusUnprocessableEntity, problem)
	default:
		c.fail(w, r, err)
	}
}

func optional(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}
