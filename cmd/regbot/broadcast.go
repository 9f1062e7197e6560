package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"regbot/broadcasts"
	"regbot/dialogs"
	"regbot/store"
	"regbot/store/postgres"
)

// Broadcasts from the terminal: `regbot broadcast
// create|send|status|pause|resume|cancel|report|list` and `regbot segment
// save|list|delete` (docs/broadcasts.md). The running `regbot serve`
// processes do the sending; these commands write to the record and watch
// it.

// broadcastCLI is a broadcast command's connection to the record.
type broadcastCLI struct {
	svc   *broadcasts.Service
	rec   *postgres.Store
	close func()
	fs    *flag.FlagSet
}

// audit writes a broadcast action to the console's audit log, by "cli"
// as the user commands are.
func (c *broadcastCLI) audit(ctx context.Context, action string, id int64, detail string) error {
	return c.rec.AppendAudit(ctx, store.AuditEntry{At: time.Now(), Login: "cli", Action: action,
		Target: fmt.Sprintf("broadcast:%d", id), Detail: detail, Address: "terminal"})
}

// openBroadcasts parses a broadcast command's flags (flags adds its own)
// and connects to the record.
func openBroadcasts(ctx context.Context, name string, args []string, stderr io.Writer, flags func(*flag.FlagSet)) (*broadcastCLI, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (see config.example.yaml)")
	if flags != nil {
		flags(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if *path == "" {
		return nil, fmt.Errorf("%w: regbot %s --config FILE …", errUsage, name)
	}
	cfg, err := loadConfig(*path, os.Getenv)
	if err != nil {
		return nil, err
	}
	if cfg.Database.URL == "" {
		return nil, errors.New("database.url is empty: broadcasts need the database (the candidates are there)")
	}
	plan, err := loadPlan(cfg.Plan.Path)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	blobs, err := openBlobs(cfg, log)
	if err != nil {
		return nil, oneLine(err)
	}
	pool, err := postgres.NewPool(ctx, cfg.Database.URL, 4)
	if err != nil {
		return nil, err
	}
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, oneLine(fmt.Errorf("database: %w", err))
	}
	opts, _, err := cfg.recordOptions(plan)
	if err != nil {
		pool.Close()
		return nil, err
	}
	rec := postgres.New(pool, opts...)
	if err := rec.CheckKeys(ctx); err != nil {
		pool.Close()
		return nil, oneLine(fmt.Errorf("database: %w", err))
	}
	return &broadcastCLI{svc: broadcasts.NewService(rec, plan, blobs, log), rec: rec, close: pool.Close, fs: fs}, nil
}

// id is the command's one argument, a broadcast id.
func (c *broadcastCLI) id(usage string) (int64, error) {
	if c.fs.NArg() != 1 {
		return 0, fmt.Errorf("%w: %s", errUsage, usage)
	}
	id, err := strconv.ParseInt(c.fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %q is not a broadcast id; %s", errUsage, c.fs.Arg(0), usage)
	}
	return id, nil
}

// runBroadcastCreate is `regbot broadcast create --config FILE --title T
// (--filter EXPR | --segment NAME) (--text T | --text-file FILE) [--image
// FILE]`: it checks and records a draft and says whom it reaches now.
func runBroadcastCreate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	var title, filter, segment, text, textFile, imagePath string
	c, err := openBroadcasts(ctx, "broadcast create", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&title, "title", "", "the broadcast's title (staff see it)")
		fs.StringVar(&filter, "filter", "", `who gets it: an expression over candidate fields, e.g. status == "awaiting_payment"`)
		fs.StringVar(&segment, "segment", "", "who gets it: a saved segment's name")
		fs.StringVar(&text, "text", "", "the message; {name}, {status}, {payment_link} are filled in ({name|default} with a default)")
		fs.StringVar(&textFile, "text-file", "", "read the message from this file")
		fs.StringVar(&imagePath, "image", "", "a JPEG or PNG sent with the message")
	})
	if err != nil {
		return err
	}
	defer c.close()
	if (filter == "") == (segment == "") || (text == "") == (textFile == "") || c.fs.NArg() > 0 {
		return fmt.Errorf("%w: regbot broadcast create --config FILE --title T (--filter EXPR | --segment NAME) (--text T | --text-file FILE) [--image FILE]", errUsage)
	}
	if textFile != "" {
		data, err := os.ReadFile(textFile)
		if err != nil {
			return err
		}
		text = strings.TrimRight(string(data), "\r\n")
	}
	d := broadcasts.Draft{Title: title, Filter: filter, Segment: segment, Body: text}
	if imagePath != "" {
		if d.Image, err = os.ReadFile(imagePath); err != nil {
			return err
		}
		d.ImageName = imagePath
	}
	b, err := c.svc.Create(ctx, d)
	if err != nil {
		return err
	}
	if err := c.audit(ctx, "broadcast.create", b.ID, b.Title); err != nil {
		return err
	}
	p, err := c.svc.Preview(ctx, b.Filter, "", b.Body)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "broadcast %d created (draft)\n", b.ID)
	printPreview(stdout, p)
	if p.Matches == 0 {
		fmt.Fprintln(stdout, "warning: the filter matches no candidate now; sending it would send nothing")
	}
	return nil
}

// printPreview says whom a broadcast reaches and shows a few of them.
func printPreview(w io.Writer, p broadcasts.Preview) {
	var channels []string
	for ch, n := range p.Channels {
		channels = append(channels, fmt.Sprintf("%s %d", ch, n))
	}
	sort.Strings(channels)
	fmt.Fprintf(w, "matches %d candidates (%s); %d of them blocked the bot and will be skipped\n",
		p.Matches, strings.Join(channels, ", "), p.Unreachable)
	for i, s := range p.Sample {
		if i == 3 {
			break
		}
		fmt.Fprintf(w, "  candidate %d (%s, %s): %s\n", s.CandidateID, s.Status, s.Channel, firstLine(s.Text))
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if r := []rune(line); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return line
}

// runBroadcastSend is `regbot broadcast send --config FILE [--at TIME]
// [--wait] ID`: it starts the broadcast now (or at TIME, China time
// "2006-01-02 15:04") and, with --wait, shows its progress until it is
// done. A filter that matches nobody sends nothing and says so.
func runBroadcastSend(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	var at string
	var wait bool
	c, err := openBroadcasts(ctx, "broadcast send", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&at, "at", "", `send at this time (China time, "2006-01-02 15:04"); default now`)
		fs.BoolVar(&wait, "wait", false, "show the progress until the broadcast is done")
	})
	if err != nil {
		return err
	}
	defer c.close()
	const usage = `regbot broadcast send --config FILE [--at "2006-01-02 15:04"] [--wait] ID`
	id, err := c.id(usage)
	if err != nil {
		return err
	}
	var when time.Time
	if at != "" {
		if when, err = time.ParseInLocation("2006-01-02 15:04", at, dialogs.ChinaTime); err != nil {
			return fmt.Errorf("%w: --at %q: want \"2006-01-02 15:04\" (China time)", errUsage, at)
		}
	}
	n, err := c.svc.Send(ctx, id, when)
	if errors.Is(err, broadcasts.ErrNoRecipients) {
		return errors.New("the filter matches no candidate: nothing was sent (the broadcast stays a draft)")
	}
	if err != nil {
		return err
	}
	if err := c.audit(ctx, "broadcast.send", id, fmt.Sprintf("%d recipients %s", n, at)); err != nil {
		return err
	}
	if !when.IsZero() && when.After(time.Now()) {
		fmt.Fprintf(stdout, "broadcast %d scheduled for %s: %d candidates match now\n", id, when.Format("2006-01-02 15:04"), n)
		return nil
	}
	fmt.Fprintf(stdout, "broadcast %d sending to %d candidates (the running regbot serve processes send it)\n", id, n)
	if wait {
		return watch(ctx, c.svc, id, stdout, stderr)
	}
	return nil
}

// runBroadcastStatus is `regbot broadcast status --config FILE [--watch]
// ID`: the broadcast's counts and rate, or with --watch a progress bar
// until it is done.
func runBroadcastStatus(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	var follow bool
	c, err := openBroadcasts(ctx, "broadcast status", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&follow, "watch", false, "show a progress bar until the broadcast is done")
	})
	if err != nil {
		return err
	}
	defer c.close()
	id, err := c.id("regbot broadcast status --config FILE [--watch] ID")
	if err != nil {
		return err
	}
	if follow {
		return watch(ctx, c.svc, id, stdout, stderr)
	}
	b, err := c.svc.Broadcast(ctx, id)
	if err != nil {
		return err
	}
	p, err := c.svc.Progress(ctx, id)
	if err != nil {
		return err
	}
	printStatus(stdout, b, p)
	return nil
}

// printStatus is a broadcast's state and counts.
func printStatus(w io.Writer, b store.Broadcast, p store.BroadcastProgress) {
	fmt.Fprintf(w, "broadcast %d %q: %s\n", b.ID, b.Title, b.State)
	if b.Note == broadcasts.NoteNoRecipients {
		fmt.Fprintln(w, "its filter matched no candidate when it was due: nothing was sent")
	}
	rate := fmt.Sprintf("%.1f/s", broadcasts.CurrentRate(b, p, time.Now()))
	if avg := broadcasts.AverageRate(b, p); avg > 0 {
		rate = fmt.Sprintf("%.1f/s on average", avg)
	}
	fmt.Fprintf(w, "recipients %d: waiting %d, sending %d, sent %d, failed %d, skipped %d, cancelled %d; %s\n",
		p.Total, p.Waiting, p.Sending, p.Sent, p.Failed, p.Skipped, p.Cancelled, rate)
	var reasons []string
	for r, n := range p.Reasons {
		reasons = append(reasons, fmt.Sprintf("%s %d", r, n))
	}
	if len(reasons) > 0 {
		sort.Strings(reasons)
		fmt.Fprintf(w, "not delivered: %s\n", strings.Join(reasons, ", "))
	}
}

// watchEvery is how often a watched broadcast's counts are read.
const watchEvery = 500 * time.Millisecond

// watch shows broadcast id's progress as a bar on stderr until it is done
// or cancelled, then its counts on stdout.
func watch(ctx context.Context, svc *broadcasts.Service, id int64, stdout, stderr io.Writer) error {
	b, err := svc.Broadcast(ctx, id)
	if err != nil {
		return err
	}
	bar := progressbar.NewOptions(max(b.Recipients, 1),
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription(fmt.Sprintf("broadcast %d", id)),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }),
	)
	var (
		p        store.BroadcastProgress
		lastMove = time.Now()
		last     = -1
		warned   bool
	)
	for {
		if b, err = svc.Broadcast(ctx, id); err != nil {
			return err
		}
		if p, err = svc.Progress(ctx, id); err != nil {
			return err
		}
		if p.Total > 0 {
			bar.ChangeMax(p.Total)
		}
		bar.Describe(fmt.Sprintf("broadcast %d %s: sent %d failed %d skipped %d, %.1f/s", id, b.State, p.Sent, p.Failed,
			p.Skipped, broadcasts.CurrentRate(b, p, time.Now())))
		bar.Set(p.Finished())
		if done := p.Finished(); done != last {
			last, lastMove = done, time.Now()
		} else if !warned && b.State == store.BroadcastSending && time.Since(lastMove) > 15*time.Second {
			warned = true
			fmt.Fprintln(stderr, "\nno progress for 15 s: is a regbot serve process running with this database?")
		}
		if b.State == store.BroadcastDone || b.State == store.BroadcastCancelled {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(watchEvery):
		}
	}
	bar.Finish()
	printStatus(stdout, b, p)
	return nil
}

// runBroadcastPause, runBroadcastResume and runBroadcastCancel change a
// broadcast's state.
func runBroadcastPause(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	return broadcastAction(ctx, "pause", args, stdout, stderr, func(c *broadcastCLI, id int64) (string, error) {
		return "paused (messages already on their way still go)", c.svc.Pause(ctx, id)
	})
}

func runBroadcastResume(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	return broadcastAction(ctx, "resume", args, stdout, stderr, func(c *broadcastCLI, id int64) (string, error) {
		return "sending again", c.svc.Resume(ctx, id)
	})
}

func runBroadcastCancel(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	return broadcastAction(ctx, "cancel", args, stdout, stderr, func(c *broadcastCLI, id int64) (string, error) {
		n, err := c.svc.Cancel(ctx, id)
		return fmt.Sprintf("cancelled (%d queued messages withdrawn)", n), err
	})
}

func broadcastAction(ctx context.Context, name string, args []string, stdout, stderr io.Writer, do func(*broadcastCLI, int64) (string, error)) error {
	c, err := openBroadcasts(ctx, "broadcast "+name, args, stderr, nil)
	if err != nil {
		return err
	}
	defer c.close()
	id, err := c.id("regbot broadcast " + name + " --config FILE ID")
	if err != nil {
		return err
	}
	said, err := do(c, id)
	if errors.Is(err, store.ErrConflict) {
		b, berr := c.svc.Broadcast(ctx, id)
		if berr == nil {
			return fmt.Errorf("broadcast %d is %s: cannot %s it", id, b.State, name)
		}
	}
	if err != nil {
		return err
	}
	if err := c.audit(ctx, "broadcast."+name, id, ""); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "broadcast %d %s\n", id, said)
	return nil
}

// runBroadcastReport is `regbot broadcast report --config FILE [--out
// FILE] ID`: the per-recipient CSV report.
func runBroadcastReport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	var out string
	c, err := openBroadcasts(ctx, "broadcast report", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "write the CSV here (default: standard output)")
	})
	if err != nil {
		return err
	}
	defer c.close()
	id, err := c.id("regbot broadcast report --config FILE [--out FILE] ID")
	if err != nil {
		return err
	}
	w := stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return c.svc.Report(ctx, id, w)
}

// runBroadcastList is `regbot broadcast list --config FILE`.
func runBroadcastList(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	c, err := openBroadcasts(ctx, "broadcast list", args, stderr, nil)
	if err != nil {
		return err
	}
	defer c.close()
	list, err := c.svc.Broadcasts(ctx, 50)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tRECIPIENTS\tCREATED\tTITLE")
	for _, b := range list {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", b.ID, b.State, b.Recipients,
			b.CreatedAt.In(dialogs.ChinaTime).Format("2006-01-02 15:04"), b.Title)
	}
	return tw.Flush()
}

// runSegmentSave is `regbot segment save --config FILE NAME FILTER`.
func runSegmentSave(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	c, err := openBroadcasts(ctx, "segment save", args, stderr, nil)
	if err != nil {
		return err
	}
	defer c.close()
	if c.fs.NArg() != 2 {
		return fmt.Errorf("%w: regbot segment save --config FILE NAME FILTER", errUsage)
	}
	seg, err := c.svc.SaveSegment(ctx, c.fs.Arg(0), c.fs.Arg(1), 0)
	if err != nil {
		return err
	}
	p, err := c.svc.Preview(ctx, seg.Filter, "", "-")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "segment %q saved: matches %d candidates now\n", seg.Name, p.Matches)
	return nil
}

// runSegmentList is `regbot segment list --config FILE`.
func runSegmentList(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	c, err := openBroadcasts(ctx, "segment list", args, stderr, nil)
	if err != nil {
		return err
	}
	defer c.close()
	segs, err := c.svc.Segments(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFILTER")
	for _, g := range segs {
		fmt.Fprintf(tw, "%s\t%s\n", g.Name, g.Filter)
	}
	return tw.Flush()
}
