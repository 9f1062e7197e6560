// Package console is the terminal channel: `regbot chat`. It reads one
// candidate message per line and prints the bot's messages, either for a
// person (numbered choices) or as JSON lines for scripts and tests.
//
// The JSON contract (stable; tests and admins' scripts rely on it):
//
//   - stdin: one candidate message per line. A choice may be sent as its id,
//     its number or its label; an image as "/image PATH".
//   - stdout: one JSON object per bot message:
//     {"text": "...", "choices": [{"id": "...", "label": "..."}],
//     "ask": {"slot": "<slot key>", "type": "bool|choice|number|month|text|image|..."}}
//     "ask" is present on the message that asks a question; for the work
//     history group the slot is work_history.employer, .occupation, .start,
//     .end or .more; for an upload it is the material key with type "image".
//     A message may carry "link": {"label","url"} and "image": {"name","path"}
//     (the image is written to a file).
//   - events, one line each, before the messages of the turn that caused them:
//     {"event": "eligibility", "condition": "C2" | null, "also": [...],
//     "materials": [...], "missing": [...]},
//     {"event": "escalation", "reason": "..."},
//     {"event": "status", "status": "materials_ready"},
//     {"event": "material", "material": "photo", "accepted": true, "problems": [...]}.
package console

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"regbot/dialogs"
	"regbot/plans"
)

// Handler runs one inbound message (bot.Router satisfies it).
type Handler interface {
	Handle(ctx context.Context, in dialogs.Inbound) (dialogs.Result, error)
}

// Config configures a Console.
type Config struct {
	// JSON selects the JSON-lines contract instead of human output.
	JSON bool
	// UserID is the candidate's id on the console channel.
	UserID string
	// ImageDir is where images the bot sends are written.
	ImageDir string
	// MaxImageBytes bounds a file sent with /image.
	MaxImageBytes int64
	// Texts are the plan's texts (TextKeys); nil: the embedded default
	// plan's.
	Texts map[string]string
}

// TextKeys are the plan texts the terminal channel says itself, each with
// the placeholders it may use.
var TextKeys = map[string][]string{
	"console_banner":           {"title"},
	"console_image_unreadable": {"path"},
	"console_image_too_large":  {"max"},
	"console_image_saved":      {"path"},
}

// Console runs a conversation over a reader and a writer.
type Console struct {
	cfg     Config
	h       Handler
	out     io.Writer
	choices []dialogs.Choice
	seq     int
	images  int
}

// New returns a Console that sends messages to h and prints to out.
func New(cfg Config, h Handler, out io.Writer) *Console {
	if cfg.UserID == "" {
		cfg.UserID = "local"
	}
	if cfg.ImageDir == "" {
		cfg.ImageDir = filepath.Join(os.TempDir(), "regbot-chat")
	}
	if cfg.MaxImageBytes == 0 {
		cfg.MaxImageBytes = 20 << 20
	}
	if cfg.Texts == nil {
		if p, err := plans.Default(); err == nil {
			cfg.Texts = p.Texts
		}
	}
	return &Console{cfg: cfg, h: h, out: out}
}

// Run greets the candidate and then handles one line at a time until in
// ends or ctx is cancelled.
func (c *Console) Run(ctx context.Context, in io.Reader) error {
	if err := c.send(ctx, dialogs.Inbound{Event: "subscribe"}); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for {
		if !c.cfg.JSON {
			fmt.Fprint(c.out, "> ")
		}
		if !sc.Scan() {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		msg, err := c.inbound(line)
		if err != nil {
			c.notice(err.Error())
			continue
		}
		if err := c.send(ctx, msg); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read input: %w", err)
	}
	return nil
}

// say is the plan's text of key with its placeholders filled.
func (c *Console) say(key string, kv ...string) string { return dialogs.Fill(c.cfg.Texts[key], kv...) }

// Banner is the line a human sees when the terminal chat starts.
func (c *Console) Banner(title string) string { return c.say("console_banner", "title", title) }

// inbound turns a line into a message.
func (c *Console) inbound(line string) (dialogs.Inbound, error) {
	in := dialogs.Inbound{}
	if path, ok := strings.CutPrefix(line, "/image "); ok {
		path = strings.TrimSpace(path)
		st, err := os.Stat(path)
		if err != nil {
			return in, errors.New(c.say("console_image_unreadable", "path", path))
		}
		if st.Size() > c.cfg.MaxImageBytes {
			return in, errors.New(c.say("console_image_too_large", "max", strconv.FormatInt(c.cfg.MaxImageBytes>>20, 10)+" MB"))
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return in, errors.New(c.say("console_image_unreadable", "path", path))
		}
		in.Image = &dialogs.Image{Data: data, Name: filepath.Base(path), Document: true}
		return in, nil
	}
	for _, ch := range c.choices {
		if line == ch.ID {
			in.Choice = ch.ID
			return in, nil
		}
	}
	in.Text = line
	return in, nil
}

func (c *Console) send(ctx context.Context, in dialogs.Inbound) error {
	c.seq++
	in.Channel, in.UserID, in.MsgID = "console", c.cfg.UserID, "console-"+strconv.Itoa(c.seq)
	res, err := c.h.Handle(ctx, in)
	if err != nil {
		return fmt.Errorf("handle message: %w", err)
	}
	for _, ev := range res.Events {
		c.event(ev)
	}
	c.choices = nil
	for _, m := range res.Messages {
		if err := c.message(m); err != nil {
			return err
		}
		if len(m.Choices) > 0 {
			c.choices = m.Choices
		}
	}
	return nil
}

// jsonMessage is the JSON form of a bot message.
type jsonMessage struct {
	Text    string           `json:"text"`
	Choices []dialogs.Choice `json:"choices,omitempty"`
	Ask     *dialogs.Ask     `json:"ask,omitempty"`
	Link    *dialogs.Link    `json:"link,omitempty"`
	Image   *jsonImage       `json:"image,omitempty"`
}

type jsonImage struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

func (c *Console) message(m dialogs.Outbound) error {
	var img *jsonImage
	if m.Image != nil {
		path, err := c.saveImage(m.Image)
		if err != nil {
			return err
		}
		img = &jsonImage{Name: m.Image.Name, Path: path}
	}
	if c.cfg.JSON {
		return c.writeJSON(jsonMessage{Text: m.Text, Choices: m.Choices, Ask: m.Ask, Link: m.Link, Image: img})
	}
	fmt.Fprintf(c.out, "\n%s\n", m.Text)
	for i, ch := range m.Choices {
		fmt.Fprintf(c.out, "  %d) %s\n", i+1, ch.Label)
	}
	if m.Link != nil {
		fmt.Fprintf(c.out, "  %s：%s\n", m.Link.Label, m.Link.URL)
	}
	if img != nil {
		fmt.Fprintf(c.out, "  %s\n", c.say("console_image_saved", "path", img.Path))
	}
	return nil
}

func (c *Console) saveImage(img *dialogs.OutImage) (string, error) {
	if err := os.MkdirAll(c.cfg.ImageDir, 0o700); err != nil {
		return "", fmt.Errorf("image dir: %w", err)
	}
	c.images++
	path := filepath.Join(c.cfg.ImageDir, strconv.Itoa(c.images)+"-"+filepath.Base(img.Name))
	if err := os.WriteFile(path, img.Data, 0o600); err != nil {
		return "", fmt.Errorf("write image: %w", err)
	}
	return path, nil
}

// jsonEligibility always has every key, condition null when none holds.
type jsonEligibility struct {
	Event     string   `json:"event"`
	Condition *string  `json:"condition"`
	Also      []string `json:"also"`
	Materials []string `json:"materials"`
	Missing   []string `json:"missing"`
}

type jsonMaterial struct {
	Event    string   `json:"event"`
	Material string   `json:"material"`
	Accepted bool     `json:"accepted"`
	Problems []string `json:"problems"`
}

func (c *Console) event(ev dialogs.Event) {
	if !c.cfg.JSON {
		return
	}
	switch ev.Kind {
	case dialogs.EventEligibility:
		c.writeJSON(jsonEligibility{Event: string(ev.Kind), Condition: ev.Condition,
			Also: nonNil(ev.Also), Materials: nonNil(ev.Materials), Missing: nonNil(ev.Missing)})
	case dialogs.EventMaterial:
		c.writeJSON(jsonMaterial{Event: string(ev.Kind), Material: ev.Document.Material,
			Accepted: ev.Document.Accepted, Problems: nonNil(ev.Document.Problems)})
	case dialogs.EventEscalation:
		c.writeJSON(map[string]string{"event": string(ev.Kind), "reason": ev.Reason})
	case dialogs.EventStatus:
		c.writeJSON(map[string]string{"event": string(ev.Kind), "status": string(ev.Status)})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// notice tells the person at the terminal about a problem with their input.
func (c *Console) notice(msg string) {
	if c.cfg.JSON {
		c.writeJSON(map[string]string{"error": msg})
		return
	}
	fmt.Fprintln(c.out, msg)
}

func (c *Console) writeJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	data = append(data, '\n')
	if _, err := c.out.Write(data); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
