package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"regbot/dialogs"
	"regbot/dialogs/answers"
	"regbot/store"
)

// StatusImport applies the official system's export: a CSV file with a
// column of ID numbers or mobiles, a status column and a reason column (and
// optionally the items to re-open and a payment link). Each row is one
// system turn, so one transaction: a bad row never blocks a good one, and
// re-importing a file changes and sends nothing twice.
type StatusImport struct {
	changer *StatusChanger
	apps    Applications
	plan    *dialogs.Plan
	now     func() time.Time
}

// NewStatusImport returns the import of status changes to plan.
func NewStatusImport(changer *StatusChanger, apps Applications, plan *dialogs.Plan) *StatusImport {
	return &StatusImport{changer: changer, apps: apps, plan: plan, now: time.Now}
}

// ImportOptions configure one import.
type ImportOptions struct {
	// DryRun finds and checks every row but changes nothing.
	DryRun bool
	// Actor is the status events' actor (default "import").
	Actor string
	// Encoding is "utf-8" or "gbk"; empty detects it (a UTF-8 BOM, else
	// UTF-8 when the start of the file is valid UTF-8, else GBK).
	Encoding string
	// Workers apply rows in parallel (default 8); rows with the same ID
	// number or mobile go to the same worker, in file order.
	Workers int
	// Progress receives a progress line every ProgressEvery rows (default
	// 10,000) and at the end; nil: none.
	Progress      io.Writer
	ProgressEvery int
}

// ImportReport counts what became of the rows.
type ImportReport struct {
	Rows      int // data rows read (blank lines not counted)
	Applied   int // matched and changed (would change, in a dry run)
	Unchanged int // matched, already at the status
	Unmatched int // no candidate with that ID number or mobile
	Refused   int // a bad row: unknown status, illegal transition, missing reason …
	Failed    int // a store failed; run the import again
}

func (r ImportReport) String() string {
	return fmt.Sprintf("%d rows: %d applied, %d unchanged, %d unmatched, %d refused, %d failed",
		r.Rows, r.Applied, r.Unchanged, r.Unmatched, r.Refused, r.Failed)
}

// ErrBadFile is a file the import cannot read at all (no header with the
// needed columns, an unknown encoding): nothing was applied.
var ErrBadFile = errors.New("bad import file")

// columnWord is the name error messages give a column: the first of its
// header names (templates/messages.yaml, import.columns).
func columnWord(name string) string { return texts.Import.Columns[name][0] }

// header is the position of each known column, -1 when absent.
type header map[string]int

func parseHeader(rec []string) (header, error) {
	h := header{}
	for _, name := range importColumns {
		h[name] = -1
	}
	for i, cell := range rec {
		cell = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(cell, "\ufeff")))
		for _, name := range importColumns {
			// A column is named by its key (id_number) or a header name.
			if (cell == name || slices.Contains(texts.Import.Columns[name], cell)) && h[name] < 0 {
				h[name] = i
			}
		}
	}
	if (h["id_number"] < 0 && h["mobile"] < 0) || h["status"] < 0 {
		return nil, fmt.Errorf("%w: the first row must name a column %s (or %s) and a column %s, optionally %s, %s, %s; found %q",
			ErrBadFile, columnWord("id_number"), columnWord("mobile"), columnWord("status"), columnWord("reason"), columnWord("reopen"), columnWord("payment_url"),
			strings.Join(rec, ","))
	}
	return h, nil
}

func (h header) cell(rec []string, name string) string {
	i := h[name]
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(strings.TrimPrefix(rec[i], "'")) // Excel's text marker
}

// row is one data row to apply.
type row struct {
	n   int // line in the file, 1-based (the header is line 1)
	rec []string
}

// Import reads the CSV file r and applies its rows. out receives one line
// per row that was not applied (by its line number; no personal data) and
// the summary. The error is for a file that cannot be read at all, or a
// cancelled context; row problems are in the report.
func (im *StatusImport) Import(ctx context.Context, r io.Reader, opts ImportOptions, out io.Writer) (ImportReport, error) {
	opts.Actor = strings.TrimSpace(opts.Actor)
	if opts.Actor == "" {
		opts.Actor = store.ActorImport
	}
	if !store.ValidActor(opts.Actor) || opts.Actor == store.ActorCandidate {
		return ImportReport{}, fmt.Errorf("actor %q: want import or staff:<id>", opts.Actor)
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 10_000
	}
	text, err := decodeReader(r, opts.Encoding)
	if err != nil {
		return ImportReport{}, err
	}
	cr := csv.NewReader(text)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = false
	var h header
	for h == nil {
		rec, err := cr.Read()
		switch {
		case errors.Is(err, io.EOF):
			return ImportReport{}, fmt.Errorf("%w: the file is empty", ErrBadFile)
		case err != nil:
			return ImportReport{}, fmt.Errorf("%w: header: %v", ErrBadFile, err)
		case blank(rec):
			continue
		}
		if h, err = parseHeader(rec); err != nil {
			return ImportReport{}, err
		}
	}

	run := &importRun{im: im, opts: opts, h: h, out: out, start: time.Now()}
	queues := make([]chan row, opts.Workers)
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan row, 64)
		wg.Go(func() {
			for rw := range queues[i] {
				run.apply(ctx, rw)
			}
		})
	}
	var readErr error
	for ctx.Err() == nil {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				readErr = fmt.Errorf("read: %w", err)
				break
			}
			run.rows.Add(1)
			run.problem(pe.Line, Refused, fmt.Errorf("unreadable CSV: %v", pe.Err))
			continue
		}
		if blank(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		n := run.rows.Add(1)
		key := h.cell(rec, "id_number") + "\x00" + h.cell(rec, "mobile")
		f := fnv.New32a()
		f.Write([]byte(key))
		select {
		case queues[f.Sum32()%uint32(len(queues))] <- row{n: line, rec: rec}:
		case <-ctx.Done():
		}
		if int(n)%opts.ProgressEvery == 0 {
			run.progress()
		}
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	rep := run.report()
	if opts.Progress != nil {
		run.progress()
	}
	verb := ""
	if opts.DryRun {
		verb = " (dry run: nothing changed)"
	}
	fmt.Fprintf(out, "%s%s\n", rep, verb)
	if readErr != nil {
		return rep, readErr
	}
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("import interrupted after %d rows: %w", rep.Rows, err)
	}
	return rep, nil
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// importRun is one import under way; its counters are shared by the
// workers.
type importRun struct {
	im    *StatusImport
	opts  ImportOptions
	h     header
	start time.Time

	rows                                           atomic.Int64
	applied, unchanged, unmatched, refused, failed atomic.Int64
	outMu                                          sync.Mutex
	out                                            io.Writer
}

func (run *importRun) report() ImportReport {
	return ImportReport{Rows: int(run.rows.Load()), Applied: int(run.applied.Load()), Unchanged: int(run.unchanged.Load()),
		Unmatched: int(run.unmatched.Load()), Refused: int(run.refused.Load()), Failed: int(run.failed.Load())}
}

func (run *importRun) progress() {
	if run.opts.Progress == nil {
		return
	}
	rep := run.report()
	secs := time.Since(run.start).Seconds()
	run.outMu.Lock()
	fmt.Fprintf(run.opts.Progress, "status import: %s (%.0f rows/s)\n", rep, float64(rep.Rows)/max(secs, 1e-3))
	run.outMu.Unlock()
}

// problem counts a row that was not applied and says why.
func (run *importRun) problem(line int, o Outcome, err error) {
	switch o {
	case Unchanged:
		run.unchanged.Add(1)
		return
	case Refused:
		run.refused.Add(1)
	case Failed:
		run.failed.Add(1)
	default:
		run.unmatched.Add(1)
	}
	run.outMu.Lock()
	defer run.outMu.Unlock()
	fmt.Fprintf(run.out, "line %d: %s: %v\n", line, o, err)
}

// unmatchedOutcome labels rows whose candidate was not found.
const unmatchedOutcome Outcome = "unmatched"

// apply reads, finds and applies one row.
func (run *importRun) apply(ctx context.Context, rw row) {
	ch, outcome, err := run.change(ctx, rw.rec)
	if err != nil {
		run.problem(rw.n, outcome, err)
		return
	}
	if ch.From == ch.To {
		run.unchanged.Add(1)
		return
	}
	if run.opts.DryRun {
		if err := store.CheckTransition(ch.From, ch.To, ch.Reason); err != nil {
			run.problem(rw.n, Refused, err)
			return
		}
		run.applied.Add(1)
		return
	}
	switch o, err := run.im.changer.Apply(ctx, ch); o {
	case Applied:
		run.applied.Add(1)
	case Unchanged:
		run.unchanged.Add(1)
	default:
		run.problem(rw.n, o, err)
	}
}

// change turns a row into the change it asks for; the outcome says what
// kind of problem an error is.
func (run *importRun) change(ctx context.Context, rec []string) (Change, Outcome, error) {
	h, im := run.h, run.im
	for _, c := range rec {
		if !utf8.ValidString(c) {
			return Change{}, Refused, errors.New("not valid UTF-8 (pass --encoding gbk for an Excel file)")
		}
	}
	to, err := ParseStatus(h.cell(rec, "status"))
	if err != nil {
		return Change{}, Refused, err
	}
	ch := Change{To: to, Actor: run.opts.Actor, Reason: h.cell(rec, "reason"), PaymentURL: h.cell(rec, "payment_url")}
	if to == store.StatusRejected && ch.Reason == "" {
		return Change{}, Refused, fmt.Errorf("%s needs a reason (the %s column is empty)", statusWord(store.StatusRejected), columnWord("reason"))
	}
	if list := h.cell(rec, "reopen"); list != "" {
		if ch.Reopen, err = reopenKeys(im.plan, list); err != nil {
			return Change{}, Refused, err
		}
	}
	if u := ch.PaymentURL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return Change{}, Refused, fmt.Errorf("%s is not an http(s) URL", columnWord("payment_url"))
	}
	key, value, err := run.lookupKey(rec)
	if err != nil {
		return Change{}, Refused, err
	}
	apps, err := im.apps.FindApplications(ctx, im.plan.ID, key, value)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Change{}, unmatchedOutcome, fmt.Errorf("no candidate with this %s", lookupName(key))
	case err != nil:
		return Change{}, Failed, err
	}
	// One person may have talked to the bot on several channels: the
	// conversation they used last gets the change.
	ch.Identity, ch.From, ch.Since = apps[0].Identity, apps[0].Status, apps[0].UpdatedAt
	return ch, "", nil
}

// lookupKey is how the row names its candidate: the ID number when given,
// else the mobile, both normalised as the bot stores them.
func (run *importRun) lookupKey(rec []string) (store.LookupKey, string, error) {
	if id := run.h.cell(rec, "id_number"); id != "" {
		n, err := lookupValue(store.LookupIDNumber, id, run.im.now())
		return store.LookupIDNumber, n, err
	}
	if m := run.h.cell(rec, "mobile"); m != "" {
		n, err := lookupValue(store.LookupMobile, m, run.im.now())
		return store.LookupMobile, n, err
	}
	return "", "", errors.New("neither an ID number nor a mobile")
}

// lookupValue is an ID number or a mobile as typed, normalised as the bot
// stores them (and so as FindApplications finds them): the status import's
// and the staff API's lookup.
func lookupValue(key store.LookupKey, value string, now time.Time) (string, error) {
	var n string
	var err error
	if key == store.LookupIDNumber {
		n, err = answers.IDNumber(value, now)
	} else {
		n, err = answers.Mobile(value)
	}
	if err != nil {
		return "", fmt.Errorf("the %s is not valid: %v", lookupName(key), err)
	}
	return n, nil
}

func lookupName(k store.LookupKey) string {
	if k == store.LookupMobile {
		return "mobile"
	}
	return "ID number"
}

// bomUTF8 starts a UTF-8 file that Excel saved "with BOM".
var bomUTF8 = []byte{0xEF, 0xBB, 0xBF}

// sniffSize is how much of the file decides its encoding.
const sniffSize = 64 << 10

// decodeReader returns r as UTF-8 text: a BOM is dropped; GBK (GB18030,
// which Excel on Chinese Windows writes) is converted.
func decodeReader(r io.Reader, encoding string) (io.Reader, error) {
	br := bufio.NewReaderSize(r, sniffSize)
	head, err := br.Peek(sniffSize)
	whole := errors.Is(err, io.EOF)
	if err != nil && !whole {
		return nil, fmt.Errorf("read: %w", err)
	}
	if bytes.HasPrefix(head, bomUTF8) {
		br.Discard(len(bomUTF8))
		head = head[len(bomUTF8):]
		if encoding == "" {
			encoding = "utf-8"
		}
	}
	switch strings.ToLower(encoding) {
	case "":
		if validPrefix(head, whole) {
			return br, nil
		}
		return transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder()), nil
	case "utf-8", "utf8":
		return br, nil
	case "gbk", "gb18030", "gb2312":
		return transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder()), nil
	}
	return nil, fmt.Errorf("%w: encoding %q: want utf-8 or gbk", ErrBadFile, encoding)
}

// validPrefix reports whether b is valid UTF-8, but for a rune cut at its
// end when b is not the whole file.
func validPrefix(b []byte, whole bool) bool {
	if whole {
		return utf8.Valid(b)
	}
	for cut := 0; cut < utf8.UTFMax && cut <= len(b); cut++ {
		if utf8.Valid(b[:len(b)-cut]) {
			return true
		}
	}
	return false
}
