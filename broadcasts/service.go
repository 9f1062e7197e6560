package broadcasts

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // the image formats a broadcast may carry
	_ "image/png"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"regbot/dialogs"
	"regbot/store"
)

// Store is the record of broadcasts (store/postgres.Store). Each method
// reports a missing broadcast or segment with store.ErrNotFound, a
// broadcast in another state than asked with store.ErrConflict.
type Store interface {
	Audience(ctx context.Context, planID, nameKey string) ([]store.AudienceMember, error)
	CreateBroadcast(ctx context.Context, b store.Broadcast) (store.Broadcast, error)
	Broadcast(ctx context.Context, id int64) (store.Broadcast, error)
	Broadcasts(ctx context.Context, limit int) ([]store.Broadcast, error)
	ScheduleBroadcast(ctx context.Context, id int64, at time.Time) error
	StartBroadcast(ctx context.Context, id int64, from []store.BroadcastState, recipients []store.Recipient, note string) error
	SetBroadcastState(ctx context.Context, id int64, from []store.BroadcastState, to store.BroadcastState, note string) error
	PendingBroadcastRows(ctx context.Context, id int64) ([]int64, error)
	CancelDeliveries(ctx context.Context, ids []int64) (int, error)
	BroadcastProgress(ctx context.Context, id int64, window time.Duration) (store.BroadcastProgress, error)
	BroadcastReport(ctx context.Context, id int64, nameKey string, fn func(store.RecipientReport) error) error
	SaveSegment(ctx context.Context, seg store.Segment) (store.Segment, error)
	Segments(ctx context.Context) ([]store.Segment, error)
	DeleteSegment(ctx context.Context, name string) error
}

// Blobs keeps a broadcast's image (the blob store).
type Blobs interface {
	Put(ctx context.Context, data []byte, sensitive bool) (string, error)
	Get(ctx context.Context, ref string) ([]byte, error)
}

// Errors callers branch on (besides ErrFilter and ErrTemplate).
var (
	// ErrNoRecipients: the filter matches nobody; nothing was sent.
	ErrNoRecipients = errors.New("the filter matches no candidate")
	// ErrInvalid wraps every other problem of a draft (title, image,
	// length, schedule): its message says what to fix.
	ErrInvalid = errors.New("invalid broadcast")
)

// NoteNoRecipients is the note of a scheduled broadcast whose filter
// matched nobody when its time came.
const NoteNoRecipients = "no_recipients"

// Limits of a broadcast's message: one platform send per recipient, so
// Telegram's one message a second per chat always holds.
const (
	// MaxTextUnits is Telegram's longest text (UTF-16 code units).
	MaxTextUnits = 4096
	// MaxCaptionUnits is Telegram's longest photo caption: the text of a
	// broadcast with an image.
	MaxCaptionUnits = 1024
	// MaxImageBytes bounds the image (WeChat takes up to 10 MB, Telegram
	// photos up to 10 MB).
	MaxImageBytes = 5 << 20
	// placeholderRoom is what a placeholder's value may add to the text's
	// length when it is checked.
	placeholderRoom = 200
)

// Service writes, previews, starts and stops broadcasts, for the console
// and the command line. It is safe for concurrent use.
type Service struct {
	st    Store
	plan  *dialogs.Plan
	blobs Blobs
	log   *slog.Logger
	now   func() time.Time
	// nameKey is the answer holding a candidate's name.
	nameKey string
}

// NewService returns the service for plan's candidates. It does no I/O.
func NewService(st Store, plan *dialogs.Plan, blobs Blobs, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{st: st, plan: plan, blobs: blobs, log: log, now: time.Now}
	for _, sl := range plan.Slots {
		if sl.Type == dialogs.SlotName {
			s.nameKey = sl.Key
			break
		}
	}
	return s
}

// Draft is a broadcast as an admin writes it.
type Draft struct {
	Title string
	// Filter is the expression; or Segment names a saved one.
	Filter  string
	Segment string
	Body    string
	// Image is optional (JPEG or PNG).
	Image     []byte
	ImageName string
	// CreatedBy is the staff user (0: the command line).
	CreatedBy int64
}

// Preview is what a filter and a text come to now.
type Preview struct {
	// Matches counts the candidates chosen; Unreachable those of them who
	// blocked the bot (recorded as skipped when sent).
	Matches     int
	Unreachable int
	// Channels counts the matches by channel.
	Channels map[string]int
	// Sample are a few of the matches with their text filled in.
	Sample []Sample
}

// Sample is one matched candidate and their message.
type Sample struct {
	CandidateID int64
	Name        string
	Status      store.Status
	Channel     string
	Text        string
}

// sampleSize is how many matches a preview shows.
const sampleSize = 10

// resolve returns the filter of d (its own or its segment's).
func (s *Service) resolve(ctx context.Context, filter, segment string) (string, error) {
	if segment == "" {
		return filter, nil
	}
	segs, err := s.st.Segments(ctx)
	if err != nil {
		return "", err
	}
	for _, g := range segs {
		if g.Name == segment {
			return g.Filter, nil
		}
	}
	return "", fmt.Errorf("%w: no segment named %q", ErrInvalid, segment)
}

// Preview compiles filter (or segment's) and body and evaluates them on
// today's candidates.
func (s *Service) Preview(ctx context.Context, filter, segment, body string) (Preview, error) {
	src, err := s.resolve(ctx, filter, segment)
	if err != nil {
		return Preview{}, err
	}
	f, err := CompileFilter(src)
	if err != nil {
		return Preview{}, err
	}
	t, err := ParseTemplate(body)
	if err != nil {
		return Preview{}, err
	}
	members, err := s.match(ctx, f)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{Matches: len(members), Channels: map[string]int{}}
	for _, m := range members {
		p.Channels[m.Identity.Channel]++
		if m.Unreachable {
			p.Unreachable++
		}
		if len(p.Sample) < sampleSize {
			p.Sample = append(p.Sample, Sample{CandidateID: m.CandidateID, Name: m.Name, Status: m.Status,
				Channel: m.Identity.Channel, Text: t.Render(s.values(m))})
		}
	}
	return p, nil
}

// match returns the candidates f chooses now.
func (s *Service) match(ctx context.Context, f *Filter) ([]store.AudienceMember, error) {
	all, err := s.st.Audience(ctx, s.plan.ID, s.nameKey)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := all[:0]
	for _, m := range all {
		ok, err := f.Match(FieldsOf(m, now))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// values are m's placeholder values.
func (s *Service) values(m store.AudienceMember) Values {
	link := m.PaymentURL
	if link == "" {
		link = s.plan.Payment.URL
	}
	return Values{"name": m.Name, "status": s.plan.Text("status_" + string(m.Status)), "payment_link": link}
}

// checkDraft compiles d and checks its message; it returns the filter's
// source.
func (s *Service) checkDraft(ctx context.Context, d Draft) (string, error) {
	var errs []error
	if strings.TrimSpace(d.Title) == "" {
		errs = append(errs, fmt.Errorf("%w: the title is empty", ErrInvalid))
	}
	src, err := s.resolve(ctx, d.Filter, d.Segment)
	if err == nil {
		_, err = CompileFilter(src)
	}
	if err != nil {
		errs = append(errs, err)
	}
	t, err := ParseTemplate(d.Body)
	if err != nil {
		errs = append(errs, err)
	} else if err := checkLength(t, len(d.Image) > 0); err != nil {
		errs = append(errs, err)
	}
	if len(d.Image) > 0 {
		if err := checkImage(d.Image); err != nil {
			errs = append(errs, err)
		}
	}
	return src, errors.Join(errs...)
}

// checkLength keeps the message to one send per recipient on every
// channel, allowing placeholderRoom for each placeholder's value.
func checkLength(t *Template, withImage bool) error {
	v := Values{}
	for _, p := range Placeholders {
		v[p] = strings.Repeat("x", placeholderRoom)
	}
	n := len(utf16.Encode([]rune(t.Render(v))))
	limit := MaxTextUnits
	if withImage {
		limit = MaxCaptionUnits
	}
	if n > limit {
		return fmt.Errorf("%w: the text is too long: %d characters (with %d for each placeholder), at most %d %s",
			ErrInvalid, n, placeholderRoom, limit, map[bool]string{true: "with an image (a Telegram caption)", false: "(one Telegram message)"}[withImage])
	}
	return nil
}

// checkImage accepts a JPEG or PNG of at most MaxImageBytes.
func checkImage(data []byte) error {
	if len(data) > MaxImageBytes {
		return fmt.Errorf("%w: the image is %d KB, at most %d KB", ErrInvalid, len(data)>>10, MaxImageBytes>>10)
	}
	_, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "jpeg" && format != "png") {
		return fmt.Errorf("%w: the image is not a JPEG or PNG picture", ErrInvalid)
	}
	return nil
}

// Create checks d and records it as a draft. A filter that does not
// compile is an error wrapping ErrFilter (with expr's message), a text an
// error wrapping ErrTemplate; the others wrap ErrInvalid.
func (s *Service) Create(ctx context.Context, d Draft) (store.Broadcast, error) {
	src, err := s.checkDraft(ctx, d)
	if err != nil {
		return store.Broadcast{}, err
	}
	b := store.Broadcast{PlanID: s.plan.ID, Title: strings.TrimSpace(d.Title), Filter: src, Segment: d.Segment,
		Body: d.Body, State: store.BroadcastDraft, CreatedBy: d.CreatedBy}
	if len(d.Image) > 0 {
		if s.blobs == nil {
			return store.Broadcast{}, fmt.Errorf("%w: no blob store for the image", ErrInvalid)
		}
		ref, err := s.blobs.Put(ctx, d.Image, false)
		if err != nil {
			return store.Broadcast{}, fmt.Errorf("store the image: %w", err)
		}
		b.ImageRef, b.ImageName = ref, cleanName(d.ImageName)
	}
	return s.st.CreateBroadcast(ctx, b)
}

// cleanName is the image's file name without a path.
func cleanName(name string) string {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	if name == "" {
		return "image.jpg"
	}
	return name
}

// Send starts broadcast id now (at zero or past) or schedules it for at.
// A filter that matches nobody now is ErrNoRecipients and changes nothing.
// It returns how many candidates match.
func (s *Service) Send(ctx context.Context, id int64, at time.Time) (int, error) {
	b, err := s.st.Broadcast(ctx, id)
	if err != nil {
		return 0, err
	}
	if b.State != store.BroadcastDraft && b.State != store.BroadcastScheduled {
		return 0, fmt.Errorf("broadcast %d is %s: %w", id, b.State, store.ErrConflict)
	}
	recipients, err := s.recipients(ctx, b)
	if err != nil {
		return 0, err
	}
	if len(recipients) == 0 {
		return 0, ErrNoRecipients
	}
	if at.After(s.now().Add(time.Second)) {
		return len(recipients), s.st.ScheduleBroadcast(ctx, id, at)
	}
	return len(recipients), s.st.StartBroadcast(ctx, id, []store.BroadcastState{b.State}, recipients, "")
}

// start starts a scheduled broadcast whose time has come (the Runner); a
// filter that matches nobody by then ends it with NoteNoRecipients.
// store.ErrConflict: another process started it.
func (s *Service) start(ctx context.Context, b store.Broadcast) error {
	recipients, err := s.recipients(ctx, b)
	if err != nil {
		return err
	}
	note := ""
	if len(recipients) == 0 {
		note = NoteNoRecipients
	}
	return s.st.StartBroadcast(ctx, b.ID, []store.BroadcastState{store.BroadcastScheduled}, recipients, note)
}

// recipients evaluates b's filter now and renders each match's message.
func (s *Service) recipients(ctx context.Context, b store.Broadcast) ([]store.Recipient, error) {
	f, err := CompileFilter(b.Filter)
	if err != nil {
		return nil, err
	}
	t, err := ParseTemplate(b.Body)
	if err != nil {
		return nil, err
	}
	members, err := s.match(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]store.Recipient, len(members))
	for i, m := range members {
		msg := dialogs.Outbound{Text: t.Render(s.values(m))}
		if b.ImageRef != "" {
			msg.Image = &dialogs.OutImage{Name: b.ImageName, Ref: b.ImageRef}
		}
		payload, err := dialogs.EncodeMessages([]dialogs.Outbound{msg})
		if err != nil {
			return nil, fmt.Errorf("broadcast %d: %w", b.ID, err)
		}
		out[i] = store.Recipient{CandidateID: m.CandidateID, Identity: m.Identity, Payload: payload}
		if m.Unreachable {
			out[i].Skipped = "unreachable"
		}
	}
	return out, nil
}

// Pause stops handing broadcast id's recipients to the outbox (the few
// already handed over still go); Resume goes on.
func (s *Service) Pause(ctx context.Context, id int64) error {
	return s.st.SetBroadcastState(ctx, id, []store.BroadcastState{store.BroadcastSending}, store.BroadcastPaused, "")
}

// Resume goes on with a paused broadcast.
func (s *Service) Resume(ctx context.Context, id int64) error {
	return s.st.SetBroadcastState(ctx, id, []store.BroadcastState{store.BroadcastPaused}, store.BroadcastSending, "")
}

// Cancel ends broadcast id before it is done: recipients not handed to a
// sender yet are not sent (those waiting in the outbox for a retry are
// withdrawn); the few already on their way to the platform (at most a
// batch, about a second's worth) still go. It returns how many outbox rows
// it withdrew.
func (s *Service) Cancel(ctx context.Context, id int64) (int, error) {
	err := s.st.SetBroadcastState(ctx, id, []store.BroadcastState{store.BroadcastDraft, store.BroadcastScheduled,
		store.BroadcastSending, store.BroadcastPaused}, store.BroadcastCancelled, "")
	if err != nil {
		return 0, err
	}
	rows, err := s.st.PendingBroadcastRows(ctx, id)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	return s.st.CancelDeliveries(ctx, rows)
}

// Broadcast returns one broadcast.
func (s *Service) Broadcast(ctx context.Context, id int64) (store.Broadcast, error) {
	return s.st.Broadcast(ctx, id)
}

// Broadcasts returns the latest broadcasts, newest first.
func (s *Service) Broadcasts(ctx context.Context, limit int) ([]store.Broadcast, error) {
	return s.st.Broadcasts(ctx, limit)
}

// rateWindow is the span the send rate is measured over.
const rateWindow = 10 * time.Second

// Progress counts broadcast id's recipients; Rate is the sends per second
// over the last rateWindow.
func (s *Service) Progress(ctx context.Context, id int64) (store.BroadcastProgress, error) {
	return s.st.BroadcastProgress(ctx, id, rateWindow)
}

// Rate is p's sends per second over its window.
func Rate(p store.BroadcastProgress) float64 {
	if p.RecentWindow <= 0 {
		return 0
	}
	return float64(p.RecentSent) / p.RecentWindow.Seconds()
}

// CurrentRate is Rate for broadcast b at now: in its first seconds the
// sends are divided by the time it has run, not by the whole window.
func CurrentRate(b store.Broadcast, p store.BroadcastProgress, now time.Time) float64 {
	if b.StartedAt.IsZero() || p.RecentWindow <= 0 {
		return Rate(p)
	}
	d := min(p.RecentWindow, max(now.Sub(b.StartedAt), time.Second))
	return float64(p.RecentSent) / d.Seconds()
}

// AverageRate is a finished broadcast's sends per second from its start
// to its last send (0 before it finished).
func AverageRate(b store.Broadcast, p store.BroadcastProgress) float64 {
	if b.StartedAt.IsZero() || p.LastSentAt.IsZero() || (b.State != store.BroadcastDone && b.State != store.BroadcastCancelled) {
		return 0
	}
	d := p.LastSentAt.Sub(b.StartedAt)
	if d < time.Second {
		d = time.Second
	}
	return float64(p.Sent) / d.Seconds()
}

// reportHeader are the columns of the per-recipient report.
var reportHeader = []string{"candidate_id", "name", "channel", "user_id", "state", "reason", "attempts", "sent_at", "error"}

// Report writes broadcast id's per-recipient report as CSV (UTF-8 with a
// BOM, for Excel): every recipient, what became of their message, when,
// and why not.
func (s *Service) Report(ctx context.Context, id int64, w io.Writer) error {
	if _, err := s.st.Broadcast(ctx, id); err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(reportHeader); err != nil {
		return err
	}
	err := s.st.BroadcastReport(ctx, id, s.nameKey, func(r store.RecipientReport) error {
		sent := ""
		if !r.SentAt.IsZero() {
			sent = r.SentAt.In(dialogs.ChinaTime).Format(time.DateTime)
		}
		return cw.Write([]string{strconv.FormatInt(r.CandidateID, 10), defuse(r.Name), r.Identity.Channel,
			defuse(r.Identity.UserID), r.State, r.Reason, strconv.Itoa(r.Attempts), sent, defuse(r.Error)})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// defuse keeps a cell from being read as a formula by a spreadsheet.
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// SaveSegment saves filter under name once it compiles (ErrFilter
// otherwise).
func (s *Service) SaveSegment(ctx context.Context, name, filter string, by int64) (store.Segment, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return store.Segment{}, fmt.Errorf("%w: the segment has no name", ErrInvalid)
	}
	if _, err := CompileFilter(filter); err != nil {
		return store.Segment{}, err
	}
	return s.st.SaveSegment(ctx, store.Segment{Name: name, Filter: filter, CreatedBy: by})
}

// Segments returns the saved segments by name.
func (s *Service) Segments(ctx context.Context) ([]store.Segment, error) { return s.st.Segments(ctx) }

// DeleteSegment deletes a saved segment.
func (s *Service) DeleteSegment(ctx context.Context, name string) error {
	return s.st.DeleteSegment(ctx, name)
}
