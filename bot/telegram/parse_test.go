package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"regbot/dialogs"
	"regbot/plans"
)

func TestParseUpdate(t *testing.T) {
	t.Parallel()
	doc := func(name, mime string, size int) map[string]any {
		return map[string]any{"document": map[string]any{"file_id": "f", "file_unique_id": "u", "file_name": name, "mime_type": mime, "file_size": size}}
	}
	tests := []struct {
		name   string
		update map[string]any
		ok     bool
		in     dialogs.Inbound // Channel, UserID and MsgID are checked apart
		file   *fileRef
		large  bool
	}{
		{name: "text", update: textUpdate(1, 42, "你好"), ok: true, in: dialogs.Inbound{Text: "你好"}},
		{name: "start", update: textUpdate(1, 42, "/start"), ok: true, in: dialogs.Inbound{Event: "subscribe"}},
		{name: "start with payload", update: textUpdate(1, 42, "/start ad-campaign"), ok: true, in: dialogs.Inbound{Event: "subscribe"}},
		{name: "help with bot name", update: textUpdate(1, 42, "/HELP@regbot_bot"), ok: true, in: dialogs.Inbound{Text: "/help"}},
		{name: "status", update: textUpdate(1, 42, "/status"), ok: true, in: dialogs.Inbound{Text: "/status"}},
		{name: "human", update: textUpdate(1, 42, "/human"), ok: true, in: dialogs.Inbound{Text: "/human"}},
		{name: "restart", update: textUpdate(1, 42, "/restart"), ok: true, in: dialogs.Inbound{Text: "/restart"}},
		{name: "unknown command kept as text", update: textUpdate(1, 42, "/foo"), ok: true, in: dialogs.Inbound{Text: "/foo"}},
		{name: "script is just text", update: textUpdate(1, 42, "<script>alert(1)</script>"), ok: true, in: dialogs.Inbound{Text: "<script>alert(1)</script>"}},
		{name: "own contact", update: message(1, 42, map[string]any{"contact": map[string]any{"phone_number": "8613800138000", "first_name": "张", "user_id": 42}}),
			ok: true, in: dialogs.Inbound{Text: "13800138000"}},
		{name: "someone else's contact", update: message(1, 42, map[string]any{"contact": map[string]any{"phone_number": "+8613800138000", "first_name": "李", "user_id": 7}}),
			ok: true, in: dialogs.Inbound{Other: "contact"}},
		{name: "voice", update: message(1, 42, map[string]any{"voice": map[string]any{"file_id": "v", "file_unique_id": "v", "duration": 3}}), ok: true, in: dialogs.Inbound{Other: "voice"}},
		{name: "video", update: message(1, 42, map[string]any{"video": map[string]any{"file_id": "v", "file_unique_id": "v", "width": 1, "height": 1, "duration": 3}}), ok: true, in: dialogs.Inbound{Other: "video"}},
		{name: "sticker", update: message(1, 42, map[string]any{"sticker": map[string]any{"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1}}), ok: true, in: dialogs.Inbound{Other: "sticker"}},
		{name: "location", update: message(1, 42, map[string]any{"location": map[string]any{"latitude": 30.2, "longitude": 120.1}}), ok: true, in: dialogs.Inbound{Other: "location"}},
		{name: "photo", update: message(1, 42, map[string]any{"photo": []map[string]any{
			{"file_id": "a", "file_unique_id": "a", "width": 1280, "height": 960, "file_size": 90000},
			{"file_id": "b", "file_unique_id": "b", "width": 90, "height": 67, "file_size": 900},
		}}), ok: true, file: &fileRef{id: "a", size: 90000}},
		{name: "image document", update: message(1, 42, doc("照片.JPG", "image/jpeg", 50000)), ok: true, file: &fileRef{id: "f", size: 50000, name: "照片.JPG", document: true}},
		{name: "image document without mime", update: message(1, 42, doc("scan.png", "", 50000)), ok: true, file: &fileRef{id: "f", size: 50000, name: "scan.png", document: true}},
		{name: "pdf", update: message(1, 42, doc("a.pdf", "application/pdf", 50000)), ok: true, in: dialogs.Inbound{Other: "file"}},
		{name: "exe named jpg", update: message(1, 42, doc("a.jpg", "application/x-msdownload", 50000)), ok: true, in: dialogs.Inbound{Other: "file"}},
		{name: "30 MB image", update: message(1, 42, doc("big.jpg", "image/jpeg", 30<<20)), ok: true, large: true},
		{name: "pinned message (service)", update: message(1, 42, map[string]any{"pinned_message": map[string]any{"message_id": 1, "date": 0, "chat": map[string]any{"id": 42, "type": "private"}}}), ok: false},
		{name: "message from a bot", update: func() map[string]any {
			u := textUpdate(1, 42, "hi")
			u["message"].(map[string]any)["from"] = map[string]any{"id": 42, "is_bot": true, "first_name": "b"}
			return u
		}(), ok: false},
		{name: "edited message", update: map[string]any{"update_id": 1, "edited_message": textUpdate(1, 42, "x")["message"]}, ok: false},
		{name: "channel post", update: map[string]any{"update_id": 1, "channel_post": map[string]any{"message_id": 1, "date": 1, "chat": map[string]any{"id": -1, "type": "channel"}, "text": "x"}}, ok: false},
		{name: "callback", update: callbackUpdate(1, 42, "yes", 3, "问题", [][]inlineButton{{{Text: "是", CallbackData: "yes"}}}), ok: true, in: dialogs.Inbound{Choice: "yes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			upd := decodeUpdate(t, tt.update)
			inc, ok := parseUpdate(upd)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			want := tt.in
			want.Channel, want.UserID, want.MsgID = "telegram", "42", "tg-update:1"
			if !jsonEqual(inc.in, want) || inc.in.Image != nil {
				t.Errorf("inbound = %+v, want %+v", inc.in, want)
			}
			if (inc.file == nil) != (tt.file == nil) || (inc.file != nil && *inc.file != *tt.file) {
				t.Errorf("file = %+v, want %+v", inc.file, tt.file)
			}
			if inc.tooLarge != tt.large {
				t.Errorf("tooLarge = %v, want %v", inc.tooLarge, tt.large)
			}
		})
	}
}

// decodeUpdate decodes u as the webhook does.
func decodeUpdate(t *testing.T, u map[string]any) *slimUpdate {
	t.Helper()
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	var upd slimUpdate
	if err := json.Unmarshal(b, &upd); err != nil {
		t.Fatal(err)
	}
	return &upd
}

// FuzzParseUpdate feeds arbitrary webhook bodies to the update parser: it
// never panics, and whatever it accepts is a well-formed Inbound of one
// private chat with at most one kind of content.
func FuzzParseUpdate(f *testing.F) {
	for _, u := range []map[string]any{
		textUpdate(1, 42, "/start"),
		textUpdate(2, 42, "你好"),
		message(3, 42, map[string]any{"photo": []map[string]any{{"file_id": "a", "file_unique_id": "a", "width": 1, "height": 1}}}),
		message(4, 42, map[string]any{"document": map[string]any{"file_id": "f", "file_unique_id": "u", "mime_type": "image/png", "file_size": 1}}),
		callbackUpdate(5, 42, "#label:0", 3, "问题", [][]inlineButton{{{Text: "是", CallbackData: "#label:0"}}}),
		{"update_id": 6, "callback_query": map[string]any{"id": "c", "from": map[string]any{"id": 42}, "message": map[string]any{"message_id": 1, "date": 0, "chat": map[string]any{"id": 42, "type": "private"}}, "data": "x"}},
		{"update_id": 7, "my_chat_member": map[string]any{"chat": map[string]any{"id": 42, "type": "private"}, "new_chat_member": map[string]any{"status": "kicked"}}},
	} {
		b, _ := json.Marshal(u)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var upd slimUpdate
		if json.Unmarshal(body, &upd) != nil {
			return
		}
		inc, ok := parseUpdate(&upd)
		if !ok || inc.blocked {
			return
		}
		in := inc.in
		if in.Channel != "telegram" || in.MsgID != msgID(upd.ID) || in.UserID != strconv.FormatInt(inc.chatID, 10) || inc.chatID == 0 {
			t.Fatalf("malformed inbound %+v for chat %d", in, inc.chatID)
		}
		kinds := 0
		for _, set := range []bool{in.Text != "", in.Choice != "", in.Other != "", in.Event != "", inc.file != nil, inc.tooLarge, inc.stale} {
			if set {
				kinds++
			}
		}
		if kinds > 1 || (kinds == 0 && inc.callback == nil) {
			t.Fatalf("%d kinds of content in %+v", kinds, inc)
		}
		if inc.file != nil && inc.file.size > MaxFileBytes {
			t.Fatalf("a file over the limit is to be downloaded: %+v", inc.file)
		}
	})
}

func TestSplitText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		text  string
		limit int
		want  []string
	}{
		{"short", "你好", 10, []string{"你好"}},
		{"empty", "  ", 10, nil},
		{"hard cut", "一二三四五六七", 3, []string{"一二三", "四五六", "七"}},
		{"at a line break", "一二三四\n五六七八九", 8, []string{"一二三四", "五六七八九"}},
		{"emoji count twice", "😀😀😀", 4, []string{"😀😀", "😀"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := splitText(tt.text, tt.limit)
			if !jsonEqual(got, tt.want) {
				t.Errorf("splitText(%q, %d) = %q, want %q", tt.text, tt.limit, got, tt.want)
			}
			for _, p := range got {
				if utf16Len(p) > tt.limit {
					t.Errorf("piece %q over the limit", p)
				}
			}
		})
	}
}

func TestChatQueue(t *testing.T) {
	t.Parallel()
	q := newChatQueue()
	ctx := context.Background()
	first, second, third := q.join("a"), q.join("a"), q.join("a")
	other := q.join("b")
	if err := other.wait(ctx); err != nil {
		t.Fatal("another chat waits for chat a")
	}
	other.done()
	if err := first.wait(ctx); err != nil {
		t.Fatal(err)
	}
	// The second gives up waiting; the third still comes after the first.
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := second.wait(short); err == nil {
		t.Fatal("second ran before first was done")
	}
	second.abandon()
	ran := make(chan struct{})
	go func() {
		if err := third.wait(ctx); err == nil {
			close(ran)
			third.done()
		}
	}()
	select {
	case <-ran:
		t.Fatal("third ran before first was done")
	case <-time.After(30 * time.Millisecond):
	}
	first.done()
	select {
	case <-ran:
	case <-time.After(time.Second):
		t.Fatal("third never ran")
	}
	deadline := time.Now().Add(time.Second)
	for q.len() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if q.len() != 0 {
		t.Errorf("%d chats left in the queue", q.len())
	}
}

func TestRecentIDs(t *testing.T) {
	t.Parallel()
	r := newRecentIDs(3)
	for _, id := range []int64{1, 2, 3} {
		if !r.add(id) {
			t.Fatalf("%d seen before it came", id)
		}
	}
	if r.add(2) {
		t.Error("2 not remembered")
	}
	r.add(4) // forgets 1
	if !r.add(1) {
		t.Error("1 still remembered past the capacity")
	}
}

func TestSizeMattersIn(t *testing.T) {
	t.Parallel()
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	sizeMatters := SizeMattersIn(plan)
	for material, want := range map[string]bool{
		"photo":            true,  // 40–80 KB
		"application_form": true,  // at least 1200×1600: over Telegram's 1280 px
		"id_card_front":    false, // 800×500, 20 MB
		"no_such_material": false,
	} {
		if got := sizeMatters(material); got != want {
			t.Errorf("%s: %v, want %v", material, got, want)
		}
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	d := Config{Token: "1:a"}.WithDefaults()
	if d.Mode != ModePolling || d.WebhookPath != "/telegram" || d.PollTimeout != 50*time.Second || d.ServerURL != "https://api.telegram.org" {
		t.Errorf("defaults = %+v", d)
	}
	if err := (Config{}).WithDefaults().Validate(); err != nil {
		t.Errorf("a disabled channel is invalid: %v", err)
	}
	const token = "123456:ABC-def_ghi"
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none: valid
	}{
		{name: "polling", cfg: Config{Token: token}},
		{name: "webhook", cfg: Config{Token: token, Mode: "Webhook", WebhookSecret: "0123456789abcdef", WebhookURL: "https://bot.example.org/telegram"}},
		{name: "bad token", cfg: Config{Token: "secret token value"}, want: []string{"telegram.token"}},
		{name: "webhook without secret", cfg: Config{Token: token, Mode: "webhook"}, want: []string{"telegram.webhook_secret"}},
		{name: "short secret", cfg: Config{Token: token, Mode: "webhook", WebhookSecret: "short"}, want: []string{"telegram.webhook_secret"}},
		{name: "secret with spaces", cfg: Config{Token: token, Mode: "webhook", WebhookSecret: "0123456789 abcdef"}, want: []string{"telegram.webhook_secret"}},
		{name: "http webhook url", cfg: Config{Token: token, Mode: "webhook", WebhookSecret: "0123456789abcdef", WebhookURL: "http://x"}, want: []string{"telegram.webhook_url"}},
		{name: "bad path", cfg: Config{Token: token, Mode: "webhook", WebhookSecret: "0123456789abcdef", WebhookPath: "telegram/"}, want: []string{"telegram.webhook_path"}},
		{name: "unknown mode", cfg: Config{Token: token, Mode: "push"}, want: []string{"telegram.mode"}},
		{name: "poll timeout", cfg: Config{Token: token, PollTimeout: time.Second}, want: []string{"telegram.poll_timeout"}},
		{name: "every problem at once", cfg: Config{Token: "x", Mode: "webhook", ServerURL: "ftp://x"}, want: []string{"telegram.token", "telegram.webhook_secret", "telegram.server_url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.WithDefaults().Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret token value") {
				t.Errorf("the token is echoed: %v", err)
			}
		})
	}
	if _, err := New(Config{Token: token, Mode: "webhook"}, newEchoHandler(), Deps{}, nil); err == nil {
		t.Error("New accepted an invalid config")
	}
	if _, err := New(Config{}, newEchoHandler(), Deps{}, nil); err == nil {
		t.Error("New accepted a config without a token")
	}
}

func TestLogPollingError(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	logPollingError(log, errors.New(`error get updates, error decode response body for method getUpdates, {"ok":true,"result":[{"message":{"text":"11010519491231002X"}}]}, invalid character`))
	logPollingError(log, errors.New(`error get updates, conflict, Conflict: terminated by other getUpdates request`))
	out := buf.String()
	if strings.Contains(out, "11010519491231002X") {
		t.Errorf("a candidate's message reached the log:\n%s", out)
	}
	if !strings.Contains(out, "unreadable getUpdates answer") || !strings.Contains(out, "terminated by other getUpdates request") {
		t.Errorf("polling errors not logged:\n%s", out)
	}
}

// TestExampleConfig keeps testdata/telegram.example.yaml (the section for
// config.example.yaml) valid, with unknown keys refused.
func TestExampleConfig(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/telegram.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Telegram Config `yaml:"telegram"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Telegram.WithDefaults()
	if c.Enabled() {
		t.Error("the example carries a token")
	}
	if c != (Config{WebhookURL: c.WebhookURL}).WithDefaults() {
		t.Errorf("the example's values are not the defaults: %+v", c)
	}
	c.Token = "123456:from-the-environment"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Mode, c.WebhookSecret = ModeWebhook, "0123456789abcdef0123"
	if err := c.Validate(); err != nil {
		t.Fatalf("webhook mode: %v", err)
	}
}
