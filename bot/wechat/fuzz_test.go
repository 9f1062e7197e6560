package wechat

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"
)

// FuzzWebhook posts arbitrary bodies, correctly signed, in plaintext and in
// safe mode. The webhook must never panic and must answer 200 ("success"
// or a well-formed passive reply), 400 or 413; a 4xx never reaches the
// Handler.
func FuzzWebhook(f *testing.F) {
	f.Add([]byte(textXML("o-f", 1, "你好")), false)
	f.Add([]byte(imageXML("o-f", 2, "M1", "http://mmbiz.qpic.cn/x/0")), false)
	f.Add([]byte(eventXML("o-f", 3, "CLICK", "START")), true)
	f.Add([]byte(kindXML("o-f", 4, "location", "<Location_X>1</Location_X>")), true)
	f.Add([]byte("<xml><MsgType>text</MsgType></xml>"), false)
	f.Add([]byte("<xml><!DOCTYPE x [<!ENTITY a 'b'>]><Content>&a;</Content></xml>"), false)
	b := setup(f, setupOpts{memory: true, cfg: func(c *Config) { c.ReplyBudget = 200 * time.Millisecond }})
	f.Fuzz(func(t *testing.T, body []byte, aes bool) {
		mode := ""
		if aes {
			mode = "aes"
		}
		before := b.h.turnCount()
		req := b.newRequest(t, request{body: body, xml: string(body), mode: mode})
		rec := httptest.NewRecorder()
		b.a.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			out := rec.Body.String()
			if out != "success" {
				if aes {
					out = decryptReply(t, b, out)
				}
				var reply struct {
					XMLName xml.Name
					Content string `xml:"Content"`
				}
				if err := xml.Unmarshal([]byte(out), &reply); err != nil || reply.XMLName.Local != "xml" {
					t.Fatalf("200 with an unreadable reply %q: %v", out, err)
				}
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if b.h.turnCount() != before {
				t.Fatalf("refused request (%d) reached the handler", rec.Code)
			}
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if strings.Contains(rec.Body.String(), "panic") || bytes.Contains(rec.Body.Bytes(), []byte("goroutine ")) {
			t.Fatalf("internal details in the answer: %q", rec.Body.String())
		}
	})
}

// FuzzPassiveText: the passive reply built by hand is the bytes the SDK's
// message.Text marshals to, and reads back as what was said.
func FuzzPassiveText(f *testing.F) {
	f.Add("oUser", "gh_account", int64(1700000000), "您好！请回答：是 或 否。")
	f.Add("", "", int64(0), "")
	f.Add("o]]>x", "gh<&>", int64(-5), "a]]>b]]]]>c<![CDATA[d]]>")
	f.Add("o", "g", int64(1), "\n\t line 1\nline 2 & <tag> \"q\" 'a'")
	f.Fuzz(func(t *testing.T, to, from string, created int64, content string) {
		text := message.NewText(content)
		text.SetToUserName(message.CDATA(to))
		text.SetFromUserName(message.CDATA(from))
		text.SetMsgType(message.MsgTypeText)
		text.SetCreateTime(created)
		want, err := xml.Marshal(text)
		if err != nil {
			t.Skip(err)
		}
		if got := appendPassiveText(nil, to, from, created, content); !bytes.Equal(got, want) {
			t.Fatalf("built\n%s\nwant\n%s", got, want)
		}
	})
}

// FuzzParseMessage: whatever the body, the webhook's parser reads it as
// xml.Unmarshal does (the same error or none, the same fields), whether its
// scanner or encoding/xml did the reading.
func FuzzParseMessage(f *testing.F) {
	f.Add([]byte(textXML("o-f", 1, "你好")))
	f.Add([]byte(imageXML("o-f", 2, "M1", "http://mmbiz.qpic.cn/x/0")))
	f.Add([]byte(eventXML("o-f", 3, "CLICK", "START")))
	f.Add([]byte(kindXML("o-f", 4, "voice", "<MediaId><![CDATA[V1]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[是的]]></Recognition>")))
	f.Add([]byte("<xml><Content>a<![CDATA[b]]>c</Content><MsgId> 12 </MsgId><CreateTime></CreateTime></xml>"))
	f.Add([]byte("<xml><Content><![CDATA[x]]]]><![CDATA[>y]]></Content></xml> "))
	f.Add([]byte("<xml><Content>1</Content><Content>2</Content></xml>"))
	f.Add([]byte("<?xml version=\"1.0\"?><xml><MsgType>text</MsgType></xml>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		var want message.MixMessage
		werr := xml.Unmarshal(body, &want)
		var got message.MixMessage
		flat := parseFlat(body, &got)
		if !flat {
			return // encoding/xml reads it: the same by construction
		}
		if werr != nil {
			t.Fatalf("scanner read %q, encoding/xml refuses it: %v", body, werr)
		}
		if got.ToUserName != want.ToUserName || got.FromUserName != want.FromUserName || got.CreateTime != want.CreateTime ||
			got.MsgType != want.MsgType || got.MsgID != want.MsgID || got.Content != want.Content || got.Recognition != want.Recognition ||
			got.PicURL != want.PicURL || got.MediaID != want.MediaID || got.Event != want.Event || got.EventKey != want.EventKey {
			t.Fatalf("scanner read %q as\n%+v\nencoding/xml as\n%+v", body, got, want)
		}
	})
}

// TestParseFlat: the messages WeChat posts are read by the scanner.
func TestParseFlat(t *testing.T) {
	for _, body := range []string{
		textXML("o-f", 1, "你好"),
		imageXML("o-f", 2, "M1", "http://mmbiz.qpic.cn/x/0"),
		eventXML("o-f", 3, "CLICK", "START"),
		"<xml><ToUserName><![CDATA[gh_1]]></ToUserName>\n<FromUserName><![CDATA[oU]]></FromUserName>\n<CreateTime>1348831860</CreateTime>\n" +
			"<MsgType><![CDATA[voice]]></MsgType>\n<MediaId><![CDATA[m]]></MediaId>\n<Format><![CDATA[amr]]></Format>\n" +
			"<Recognition><![CDATA[腾讯微信团队]]></Recognition>\n<MsgId>1234567890123456</MsgId>\n</xml>",
	} {
		var msg message.MixMessage
		if !parseFlat([]byte(body), &msg) {
			t.Errorf("not read by the scanner: %s", body)
		}
	}
}
