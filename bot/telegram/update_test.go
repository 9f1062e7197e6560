package telegram

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
)

// decodeOutcome is what decoding one webhook body both ways gave.
type decodeOutcome int

const (
	// refused: both models.Update and slimUpdate fail to decode it.
	refused decodeOutcome = iota
	// handled, ignored: both decode it, and parseUpdate reads the same
	// incoming from both, which it handles or ignores.
	handled
	ignored
	// lenient: models.Update fails on a value of the wrong type in a part
	// the adapter does not read; slimUpdate skips that part.
	lenient
)

func (o decodeOutcome) String() string {
	return [...]string{"refused", "handled", "ignored", "lenient"}[o]
}

// decodeBothWays decodes body as the webhook did, into models.Update (as
// the library still does when polling; slimOf then cuts it down), and as
// it does, into slimUpdate, and returns an error where the adapter would
// act on the two differently.
func decodeBothWays(body []byte) (decodeOutcome, error) {
	var full models.Update
	fullErr := json.Unmarshal(body, &full)
	var slim slimUpdate
	slimErr := json.Unmarshal(body, &slim)
	switch {
	case fullErr != nil && slimErr != nil:
		return refused, nil
	case slimErr != nil:
		return refused, fmt.Errorf("slimUpdate refused what models.Update decodes: %v", slimErr)
	case fullErr != nil:
		var syntax *json.SyntaxError
		if errors.As(fullErr, &syntax) {
			return lenient, fmt.Errorf("slimUpdate decoded malformed JSON models.Update refused: %v", fullErr)
		}
		return lenient, nil
	}
	if full.ID != slim.ID {
		return refused, fmt.Errorf("update_id %d from models.Update, %d from slimUpdate", full.ID, slim.ID)
	}
	want, wantOK := parseUpdate(slimOf(&full))
	got, gotOK := parseUpdate(&slim)
	if gotOK != wantOK || !reflect.DeepEqual(got, want) {
		return refused, fmt.Errorf("parsed differently:\nmodels.Update: %v %s\nslimUpdate:    %v %s", wantOK, describe(want), gotOK, describe(got))
	}
	if wantOK {
		return handled, nil
	}
	return ignored, nil
}

func describe(inc incoming) string {
	s := fmt.Sprintf("%+v", inc)
	if inc.file != nil {
		s += fmt.Sprintf(" file=%+v", *inc.file)
	}
	if inc.callback != nil {
		s += fmt.Sprintf(" callback=%+v", *inc.callback)
	}
	return s
}

// corpusUpdate is one entry of testdata/updates.json: an update shaped as
// Telegram sends it, and whether the adapter handles it.
type corpusUpdate struct {
	Name    string          `json:"name"`
	Handled bool            `json:"handled"`
	Update  json.RawMessage `json:"update"`
}

func readUpdateCorpus(tb testing.TB) []corpusUpdate {
	tb.Helper()
	data, err := os.ReadFile("testdata/updates.json")
	if err != nil {
		tb.Fatal(err)
	}
	var corpus []corpusUpdate
	if err := json.Unmarshal(data, &corpus); err != nil {
		tb.Fatal(err)
	}
	return corpus
}

// builtUpdates are the updates the adapter's other tests deliver.
func builtUpdates() map[string]map[string]any {
	doc := func(name, mime string, size int) map[string]any {
		return map[string]any{"document": map[string]any{"file_id": "f", "file_unique_id": "u", "file_name": name, "mime_type": mime, "file_size": size}}
	}
	buttons := [][]inlineButton{{{Text: "1. 是", CallbackData: "yes"}, {Text: "2. 否", CallbackData: "no"}}, {{Text: "说明", URL: "https://example.org"}}}
	return map[string]map[string]any{
		"text":             textUpdate(1, 42, "你好"),
		"start":            textUpdate(2, 42, "/start"),
		"restart":          textUpdate(3, 42, "/restart"),
		"photo":            message(4, 42, map[string]any{"photo": []map[string]any{{"file_id": "a", "file_unique_id": "a", "width": 1280, "height": 960, "file_size": 90000}, {"file_id": "b", "file_unique_id": "b", "width": 90, "height": 67, "file_size": 900}}}),
		"image document":   message(5, 42, doc("照片.JPG", "image/jpeg", 50000)),
		"pdf":              message(6, 42, doc("a.pdf", "application/pdf", 50000)),
		"30 MB image":      message(7, 42, doc("big.jpg", "image/jpeg", 30<<20)),
		"callback":         callbackUpdate(8, 42, "no", 3, "问题", buttons),
		"long-id callback": callbackUpdate(9, 42, "#label:0", 3, "问题", [][]inlineButton{{{Text: "1. 很长", CallbackData: "#label:0"}}}),
		"edited message":   {"update_id": 10, "edited_message": textUpdate(10, 42, "改过")["message"]},
	}
}

// TestSlimUpdateDecode decodes real-shaped updates (testdata/updates.json),
// the ones the adapter's tests build and hand-written edge cases both ways:
// the adapter must do the same with each.
func TestSlimUpdateDecode(t *testing.T) {
	t.Parallel()
	type testCase struct {
		name string
		body string
		want decodeOutcome
	}
	var tests []testCase
	for _, c := range readUpdateCorpus(t) {
		want := ignored
		if c.Handled {
			want = handled
		}
		tests = append(tests, testCase{name: "corpus/" + c.Name, body: string(c.Update), want: want})
	}
	for name, u := range builtUpdates() {
		b, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		want := handled
		if name == "edited message" {
			want = ignored
		}
		tests = append(tests, testCase{name: "built/" + name, body: string(b), want: want})
	}
	const text = `"message":{"message_id":1,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"x"},"text":"是"}`
	press := func(message string) string {
		return `{"update_id":1,"callback_query":{"id":"c","from":{"id":42,"is_bot":false,"first_name":"x"},"data":"yes","message":` + message + `}}`
	}
	tests = append(tests, []testCase{
		{name: "truncated", body: `{"update_id":`, want: refused},
		{name: "trailing garbage", body: `{"update_id":1,` + text + `} x`, want: refused},
		{name: "not an object", body: `[1]`, want: refused},
		{name: "string", body: `"update"`, want: refused},
		{name: "null", body: `null`, want: ignored},
		{name: "empty object", body: `{}`, want: ignored},
		{name: "update_id as a string", body: `{"update_id":"1",` + text + `}`, want: refused},
		{name: "update_id a fraction", body: `{"update_id":1.5,` + text + `}`, want: refused},
		{name: "update_id over int64", body: `{"update_id":9223372036854775808,` + text + `}`, want: refused},
		{name: "message a number", body: `{"update_id":1,"message":5}`, want: refused},
		{name: "chat id as a string", body: `{"update_id":1,"message":{"chat":{"id":"42","type":"private"},"from":{"id":42},"text":"是"}}`, want: refused},
		{name: "text a number", body: `{"update_id":1,"message":{"chat":{"id":42,"type":"private"},"from":{"id":42},"text":5}}`, want: refused},
		{name: "photo an object", body: `{"update_id":1,"message":{"chat":{"id":42,"type":"private"},"from":{"id":42},"photo":{"file_id":"a"}}}`, want: refused},
		{name: "voice a string", body: `{"update_id":1,"message":{"chat":{"id":42,"type":"private"},"from":{"id":42},"voice":"v"}}`, want: refused},
		{name: "voice an empty object", body: `{"update_id":1,"message":{"chat":{"id":42,"type":"private"},"from":{"id":42},"voice":{}}}`, want: handled},
		{name: "member status unknown", body: `{"update_id":1,"my_chat_member":{"chat":{"id":42,"type":"private"},"new_chat_member":{"status":"banned"}}}`, want: refused},
		{name: "old member null", body: `{"update_id":1,"my_chat_member":{"chat":{"id":42,"type":"private"},"old_chat_member":null,"new_chat_member":{"status":"kicked"}}}`, want: refused},
		{name: "block without the old member", body: `{"update_id":1,"my_chat_member":{"chat":{"id":42,"type":"private"},"new_chat_member":{"status":"kicked"}}}`, want: handled},
		{name: "button message dated by a string", body: press(`{"date":"1","chat":{"id":42,"type":"private"}}`), want: refused},
		{name: "button message not an object", body: press(`7`), want: refused},
		{name: "button message's text a number", body: press(`{"date":1,"chat":{"id":42,"type":"private"},"text":5}`), want: refused},
		{name: "unreadable button message's text a number", body: press(`{"date":0,"chat":{"id":42,"type":"private"},"text":5}`), want: handled},
		{name: "button message's keyboard malformed", body: press(`{"date":1,"chat":{"id":42,"type":"private"},"reply_markup":{"inline_keyboard":[{"text":"是"}]}}`), want: refused},
		{name: "button message read then unreadable", body: `{"update_id":1,"callback_query":{"id":"c","from":{"id":42},"data":"yes","message":{"date":1,"message_id":9,"chat":{"id":42,"type":"private"},"text":"问题"},"message":{"date":0,"chat":{"id":43,"type":"private"}}}}`, want: handled},
		{name: "button message repeated: the last replaces the first", body: `{"update_id":1,"callback_query":{"id":"c","from":{"id":42},"data":"yes","message":{"date":1,"message_id":9,"chat":{"id":42,"type":"private"},"text":"问题"},"message":{"date":2,"chat":{"id":42,"type":"private"}}}}`, want: handled},
		{name: "repeated message keys merge", body: `{"update_id":1,` + text + `,"message":{"photo":[{"file_id":"p","width":1,"height":1}]}}`, want: handled},
		{name: "repeated message key, null last", body: `{"update_id":1,` + text + `,"message":null}`, want: ignored},
		{name: "keys in another case", body: `{"UPDATE_ID":7,"Message":{"ChAt":{"Id":42,"tYpe":"private"},"FROM":{"ID":42},"Text":"/HELP"}}`, want: handled},
		{name: "last of repeated keys wins", body: `{"update_id":1,"update_id":2,` + text + `}`, want: handled},
		{name: "escaped keys and text", body: `{"update_id":1,"message":{"chat":{"id":42,"type":"priv\u0061te"},"from":{"id":42},"t\u0065xt":"\u662f\ud83d\ude00"}}`, want: handled},
		{name: "deeply nested unread value", body: `{"update_id":1,` + text + `,"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, want: handled},
		// The one difference, documented on slimUpdate.
		{name: "wrong type in an unread kind", body: `{"update_id":1,` + text + `,"edited_message":5}`, want: lenient},
		{name: "sender's name a number", body: `{"update_id":1,"message":{"chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":7},"text":"是"}}`, want: lenient},
		{name: "wrong type in an unread field", body: `{"update_id":1,"message":{"chat":{"id":42,"type":"private"},"from":{"id":42},"voice":{"duration":"x"}}}`, want: lenient},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeBothWays([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s, want %s", got, tt.want)
			}
			if tt.want != lenient {
				return
			}
			// What models.Update refused, the webhook now handles as if the
			// unread part were not there.
			var slim slimUpdate
			if err := json.Unmarshal([]byte(tt.body), &slim); err != nil {
				t.Fatal(err)
			}
			if _, ok := parseUpdate(&slim); !ok {
				t.Error("the update is not handled")
			}
		})
	}
}

// FuzzUpdateDecode: on any body, slimUpdate refuses no more than
// models.Update does, refuses all malformed JSON, and when both decode, the
// adapter reads the same incoming from both.
func FuzzUpdateDecode(f *testing.F) {
	for _, c := range readUpdateCorpus(f) {
		f.Add([]byte(c.Update))
	}
	for _, u := range builtUpdates() {
		b, err := json.Marshal(u)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"messAge":{"ChAt":{"tYpe":"private"},"from":{},"teXt":"0"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := decodeBothWays(body); err != nil {
			t.Fatalf("%v\nbody: %s", err, body)
		}
	})
}

// TestSlimUpdateMirrorsModels: each field of the slim types has the JSON
// key and Go type of its models counterpart (a stand-in *struct{} for a
// pointer to a struct), so an upgrade of the library that changes one
// fails here rather than in the fuzzer.
func TestSlimUpdateMirrorsModels(t *testing.T) {
	t.Parallel()
	for slim, full := range map[reflect.Type]reflect.Type{
		reflect.TypeFor[slimUpdate]():          reflect.TypeFor[models.Update](),
		reflect.TypeFor[slimMessage]():         reflect.TypeFor[models.Message](),
		reflect.TypeFor[slimUser]():            reflect.TypeFor[models.User](),
		reflect.TypeFor[slimChat]():            reflect.TypeFor[models.Chat](),
		reflect.TypeFor[slimCallbackQuery]():   reflect.TypeFor[models.CallbackQuery](),
		reflect.TypeFor[slimCallbackMessage](): reflect.TypeFor[models.MaybeInaccessibleMessage](),
	} {
		for i := range slim.NumField() {
			sf := slim.Field(i)
			ff, ok := full.FieldByName(sf.Name)
			if !ok {
				t.Errorf("%s.%s: no such field in %s", slim.Name(), sf.Name, full)
				continue
			}
			if key(sf) != key(ff) {
				t.Errorf("%s.%s: key %q, %s's is %q", slim.Name(), sf.Name, key(sf), full, key(ff))
			}
			if sameFolded := countKeys(full, key(sf)); key(sf) != "" && sameFolded != 1 {
				t.Errorf("%s.%s: %d fields of %s have a key equal to %q but for case", slim.Name(), sf.Name, sameFolded, full, key(sf))
			}
			switch st, ft := sf.Type, ff.Type; {
			case st == ft:
			case st == reflect.TypeFor[*struct{}]() && ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
			case strings.HasPrefix(st.Name(), "slim") || st.Kind() == reflect.Pointer && strings.HasPrefix(st.Elem().Name(), "slim"):
				// Checked as a pair of its own.
				if st.Kind() != ft.Kind() {
					t.Errorf("%s.%s: a %s, %s's is a %s", slim.Name(), sf.Name, st.Kind(), full, ft.Kind())
				}
			default:
				t.Errorf("%s.%s: type %s, %s's is %s", slim.Name(), sf.Name, st, full, ft)
			}
		}
	}
}

func key(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

func countKeys(t reflect.Type, k string) int {
	n := 0
	for i := range t.NumField() {
		if strings.EqualFold(key(t.Field(i)), k) {
			n++
		}
	}
	return n
}

// BenchmarkUpdateDecode decodes a text update and a button press as the
// webhook did (into models.Update) and does (into slimUpdate).
func BenchmarkUpdateDecode(b *testing.B) {
	bodies := map[string][]byte{}
	for _, c := range readUpdateCorpus(b) {
		bodies[c.Name] = c.Update
	}
	for _, name := range []string{"text", "button press"} {
		body := bodies[name]
		if body == nil {
			b.Fatalf("no %q in testdata/updates.json", name)
		}
		b.Run(name+"/models", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var upd models.Update
				if err := json.Unmarshal(body, &upd); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/slim", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var upd slimUpdate
				if err := json.Unmarshal(body, &upd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
