package admin

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"regbot/dialogs"
	"regbot/store"
)

// The escalation inbox: tickets waiting for staff, oldest first, refreshed
// in the page without a reload; a ticket's page shows the conversation on
// it and the candidate, and takes a claim, a reply and a close. Replies and
// closes are system turns through the Router: the candidate's session and
// the ticket change together, and the reply reaches the candidate's channel
// through the outbox.

// maxReplyRunes bounds a staff reply (WeChat customer-service text is
// limited to about 2,000 characters).
const maxReplyRunes = 1500

// inboxData fills the inbox and its live list.
type inboxData struct {
	Tickets []store.Ticket
	// State is the list shown: "" (waiting and answered), closed.
	State string
	// Waiting counts the tickets waiting for staff.
	Waiting int
	// Live is the URL of the list's refresh.
	Live string
}

func (c *Console) inboxData(r *http.Request) (inboxData, error) {
	state := r.URL.Query().Get("state")
	f := store.TicketFilter{PlanID: c.plan.ID}
	if state == store.TicketClosed {
		f.States, f.Limit = []string{store.TicketClosed}, 100
	} else {
		state = ""
	}
	tickets, err := c.deps.Store.TicketInbox(r.Context(), f, c.keys.name)
	if err != nil {
		return inboxData{}, err
	}
	if state == store.TicketClosed {
		slices.Reverse(tickets) // the latest closed first
	}
	d := inboxData{Tickets: tickets, State: state, Live: "/admin/tickets/live"}
	if state != "" {
		d.Live += "?state=" + state
	}
	for _, t := range tickets {
		if t.State == store.TicketOpen {
			d.Waiting++
		}
	}
	return d, nil
}

// inbox is the list of tickets.
func (c *Console) inbox(w http.ResponseWriter, r *http.Request) {
	d, err := c.inboxData(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, "tickets", d)
}

// inboxLive is the inbox's list alone, for the page to refresh itself.
func (c *Console) inboxLive(w http.ResponseWriter, r *http.Request) {
	d, err := c.inboxData(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("X-Regbot-Waiting", strconv.Itoa(d.Waiting))
	c.renderFragment(w, r, "tickets", "ticketRows", d)
}

// ticketData fills a ticket's page.
type ticketData struct {
	Ticket   store.Ticket
	Messages []ticketMessageView
	// Candidate is the candidate's record (the answers and the latest
	// messages); Recent are their last messages to the bot.
	Candidate store.CandidateRecord
	Recent    []store.InboundMessage
	Slots     []dialogs.Slot
	// Mine says the signed-in staff member has it; Nonce makes a reply
	// or close one turn however often the button is pressed.
	Mine    bool
	Nonce   string
	Problem string
	Text    string
	// Replies are the staff messages queued for the candidate since the
	// ticket opened, with how their delivery went.
	Replies []deliveryView
	// Window is WeChat's customer-service window (nil on other channels
	// or before the candidate wrote).
	Window *replyWindow
}

// wechatWindow is how long after a candidate's last message WeChat takes
// customer-service messages (errcode 45015 after it); later the outbox
// sends a template message instead, when one is configured.
const wechatWindow = 48 * time.Hour

// replyWindow says whether a reply can still go as a customer-service
// message.
type replyWindow struct {
	LastWrote time.Time
	Open      bool
	// Left is the time the window stays open (when Open).
	Left time.Duration
}

// windowOf is WeChat's reply window for a candidate whose last message
// to the bot is last (nil when there is none or the channel has no window).
func windowOf(channel string, in []store.InboundMessage, now time.Time) *replyWindow {
	if channel != "wechat" || len(in) == 0 {
		return nil
	}
	last := in[len(in)-1].At
	left := last.Add(wechatWindow).Sub(now)
	return &replyWindow{LastWrote: last, Open: left > 0, Left: left}
}

func (c *Console) ticketPage(w http.ResponseWriter, r *http.Request) {
	c.renderTicket(w, r, http.StatusOK, "", "")
}

func (c *Console) renderTicket(w http.ResponseWriter, r *http.Request, status int, problem, text string) {
	id, err := strconv.ParseInt(r.PathValue("ticket"), 10, 64)
	if err != nil {
		c.notFound(w, r)
		return
	}
	t, msgs, err := c.deps.Store.Ticket(r.Context(), id, c.keys.name)
	if errors.Is(err, store.ErrNotFound) {
		c.notFound(w, r)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	who := staffOf(r)
	d := ticketData{Ticket: t, Mine: t.AssigneeID == who.user.ID, Problem: problem, Text: text, Slots: c.plan.Slots}
	for _, m := range msgs {
		v := ticketMessageView{TicketMessage: m}
		if m.ImageRef != "" {
			v.ImageURL = "/admin/tickets/" + strconv.FormatInt(t.ID, 10) + "/messages/" + strconv.FormatInt(m.ID, 10) +
				"/image?k=" + previewKeyFor(who.session, "message", m.ID)
		}
		d.Messages = append(d.Messages, v)
	}
	rec, err := c.deps.Store.CandidateRecord(r.Context(), t.CandidateID, c.plan.ID)
	switch {
	case err == nil:
		d.Candidate = rec
		d.Recent = rec.Inbound[max(0, len(rec.Inbound)-15):]
		d.Window = windowOf(t.Identity.Channel, rec.Inbound, c.now())
	case !errors.Is(err, store.ErrNotFound):
		c.fail(w, r, err)
		return
	}
	deliveries, err := c.deps.Store.Deliveries(r.Context(), t.CandidateID, 100)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, del := range deliveries {
		if del.Kind == store.OutStaff && !del.CreatedAt.Before(t.OpenedAt) {
			d.Replies = append(d.Replies, deliveryView{Delivery: del, Text: payloadText(del.Payload)})
		}
	}
	if d.Nonce, err = randomToken(); err != nil {
		c.fail(w, r, err)
		return
	}
	c.renderPage(w, r, status, "ticket", pageBody{Data: d})
}

// ticketMessageView is a ticket message with its image's link for this
// session.
type ticketMessageView struct {
	store.TicketMessage
	ImageURL string
}

// ticketImage serves an image the candidate sent on a ticket, to the
// session its link was made for.
func (c *Console) ticketImage(w http.ResponseWriter, r *http.Request) {
	who := staffOf(r)
	ticketID, err1 := strconv.ParseInt(r.PathValue("ticket"), 10, 64)
	msgID, err2 := strconv.ParseInt(r.PathValue("message"), 10, 64)
	if err1 != nil || err2 != nil || !sameToken(r.URL.Query().Get("k"), previewKeyFor(who.session, "message", msgID)) {
		c.audit(r, "document.denied", "ticket:"+r.PathValue("ticket"), "link of another session")
		c.renderError(w, r, http.StatusForbidden, msg("ticket.image_link"))
		return
	}
	t, msgs, err := c.deps.Store.Ticket(r.Context(), ticketID, "")
	if errors.Is(err, store.ErrNotFound) {
		c.notFound(w, r)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, m := range msgs {
		if m.ID == msgID && m.ImageRef != "" {
			c.audit(r, "document.view", "candidate:"+strconv.FormatInt(t.CandidateID, 10), "ticket "+t.Code+" image")
			c.serveImage(w, r, m.ImageRef, m.At)
			return
		}
	}
	c.notFound(w, r)
}

// claimTicket assigns the ticket to the signed-in staff member; take_over
// takes it from a colleague.
func (c *Console) claimTicket(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("ticket"), 10, 64)
	if err != nil {
		c.notFound(w, r)
		return
	}
	who := staffOf(r)
	takeOver := r.PostForm.Get("take_over") == "1"
	err = c.deps.Store.ClaimTicket(r.Context(), id, who.user.ID, takeOver, c.now())
	switch {
	case errors.Is(err, store.ErrConflict):
		c.renderTicket(w, r, http.StatusConflict, msg("ticket.claimed_by_other"), "")
		return
	case errors.Is(err, store.ErrNotFound):
		c.renderTicket(w, r, http.StatusConflict, msg("ticket.closed"), "")
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	detail := ""
	if takeOver {
		detail = "take over"
	}
	c.audit(r, "ticket.claim", "ticket:"+strconv.FormatInt(id, 10), detail)
	http.Redirect(w, r, "/admin/tickets/"+strconv.FormatInt(id, 10)+"?done=claimed", http.StatusSeeOther)
}

// replyTicket sends a staff reply and/or closes the ticket, as one system
// turn. A ticket nobody claimed is claimed by whoever answers it; one a
// colleague claimed must be taken over first.
func (c *Console) replyTicket(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("ticket"), 10, 64)
	if err != nil {
		c.notFound(w, r)
		return
	}
	f := r.PostForm
	text := strings.TrimSpace(strings.ReplaceAll(f.Get("text"), "\r\n", "\n"))
	closing := f.Get("close") == "1"
	nonce := f.Get("nonce")
	switch {
	case text == "" && !closing:
		c.renderTicket(w, r, http.StatusUnprocessableEntity, msg("ticket.empty_reply"), text)
		return
	case utf8.RuneCountInString(text) > maxReplyRunes:
		c.renderTicket(w, r, http.StatusUnprocessableEntity, msg("ticket.reply_too_long", "max", strconv.Itoa(maxReplyRunes)), text)
		return
	case len(nonce) < 16 || len(nonce) > 64:
		c.renderError(w, r, http.StatusBadRequest, msg("error.stale_page"))
		return
	}
	t, _, err := c.deps.Store.Ticket(ctx, id, "")
	if errors.Is(err, store.ErrNotFound) {
		c.notFound(w, r)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	who := staffOf(r)
	if t.State == store.TicketClosed {
		c.renderTicket(w, r, http.StatusConflict, msg("ticket.closed_by_candidate"), text)
		return
	}
	if t.AssigneeID != who.user.ID {
		if err := c.deps.Store.ClaimTicket(ctx, id, who.user.ID, false, c.now()); errors.Is(err, store.ErrConflict) {
			c.renderTicket(w, r, http.StatusConflict, msg("ticket.claim_first"), text)
			return
		} else if err != nil {
			c.fail(w, r, err)
			return
		}
		c.audit(r, "ticket.claim", "ticket:"+strconv.FormatInt(id, 10), "by reply")
	}
	in := dialogs.Inbound{
		Channel: t.Identity.Channel, UserID: t.Identity.UserID, MsgID: "console:" + nonce,
		System: &dialogs.SystemEvent{Actor: who.actor(), Ticket: t.Code, Reply: text, Close: closing},
	}
	done := "replied"
	if _, err := c.deps.Turns.Handle(ctx, in); c.deps.IsDuplicate(err) {
		done = "duplicate"
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	target := "ticket:" + strconv.FormatInt(id, 10)
	if text != "" && done != "duplicate" {
		c.audit(r, "ticket.reply", target, strconv.Itoa(utf8.RuneCountInString(text))+" characters")
	}
	if closing && done != "duplicate" {
		c.audit(r, "ticket.close", target, "")
		done = "closed"
	}
	http.Redirect(w, r, "/admin/tickets/"+strconv.FormatInt(id, 10)+"?done="+done, http.StatusSeeOther)
}
