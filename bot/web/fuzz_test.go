package web

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseIdentity: the cookie parser accepts exactly the values the chat
// signed, whatever a client sends.
func FuzzParseIdentity(f *testing.F) {
	c, err := New(Config{CookieSecret: testSecret}, &fakeHandler{}, newTextLogger(&strings.Builder{}))
	if err != nil {
		f.Fatal(err)
	}
	good := c.identityValue(newID())
	f.Add(good)
	f.Add(good + "x")
	f.Add(".")
	f.Add("")
	f.Add(strings.Repeat("A", 22) + "." + strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, value string) {
		id, ok := c.parseIdentity(value)
		if !ok {
			return
		}
		if !validID(id) || c.identityValue(id) != value {
			t.Fatalf("accepted %q as %q", value, id)
		}
	})
}

// FuzzUploadName: a client's file name becomes a short, valid base name.
func FuzzUploadName(f *testing.F) {
	for _, s := range []string{"a.jpg", `C:\x\身份证.png`, "../../etc/passwd", "\xff\xfe.jpg", strings.Repeat("长", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := uploadName(name)
		if !utf8.ValidString(got) || strings.ContainsAny(got, `/\`) || utf8.RuneCountInString(got) > 80 || got == ".." {
			t.Fatalf("uploadName(%q) = %q", name, got)
		}
	})
}

// FuzzMsgID: a client's message id is either refused or kept under the
// visitor's prefix, in the safe alphabet.
func FuzzMsgID(f *testing.F) {
	c := &Chat{}
	for _, s := range []string{"", "a-b_c", "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "a/b", "日本"} {
		f.Add(s)
	}
	v := visitor{id: newID()}
	f.Fuzz(func(t *testing.T, client string) {
		got, ok := c.msgID(v, client)
		if !ok {
			return
		}
		rest, found := strings.CutPrefix(got, v.id+"/")
		if !found || rest == "" || len(rest) > maxMsgID || strings.ContainsAny(rest, "/ :") {
			t.Fatalf("msgID(%q) = %q", client, got)
		}
	})
}
