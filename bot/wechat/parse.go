package wechat

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/silenceper/wechat/v2/officialaccount/message"
)

// parseMessage reads a plaintext message body into msg as xml.Unmarshal
// does. The messages WeChat posts are flat (<xml>, then one element per
// field, text in CDATA sections), so the common case is read by a scanner
// that allocates only the field values; anything else (entities, nested
// elements, fields the scanner does not know, a declaration) goes to
// encoding/xml, whose result is then the same by construction.
func parseMessage(body []byte, msg *message.MixMessage) error {
	if parseFlat(body, msg) {
		return nil
	}
	// Into a copy, so that msg does not escape (the webhook keeps it on
	// its stack: it is 1.7 kB).
	var m message.MixMessage
	err := xml.Unmarshal(body, &m)
	*msg = m
	return err
}

// flatField numbers the elements the scanner reads, by name (case matters,
// as for encoding/xml), or -1 for one it does not. Those after flatSkipped
// are string fields of MixMessage that the adapter does not read: the
// scanner checks them and leaves them out.
func flatField(name []byte) int {
	switch string(name) {
	case "ToUserName":
		return 0
	case "FromUserName":
		return 1
	case "CreateTime":
		return 2
	case "MsgType":
		return 3
	case "MsgId":
		return 4
	case "Content":
		return 5
	case "Recognition":
		return 6
	case "PicUrl":
		return 7
	case "MediaId":
		return 8
	case "Event":
		return 9
	case "EventKey":
		return 10
	case "Format":
		return 11
	case "ThumbMediaId":
		return 12
	case "Label":
		return 13
	case "Title":
		return 14
	case "Description":
		return 15
	case "Url":
		return 16
	case "Ticket":
		return 17
	case "MenuId":
		return 18
	case "SessionFrom":
		return 19
	}
	return -1
}

// flatSkipped is the first field the scanner leaves out.
const flatSkipped = 11

// setFlat stores the value of field f (flatField) in msg, reporting false
// for a number encoding/xml would not read.
func setFlat(msg *message.MixMessage, f int, value []byte) bool {
	switch f {
	case 2, 4:
		n := int64(0)
		if len(value) > 0 {
			var err error
			if n, err = strconv.ParseInt(strings.TrimSpace(string(value)), 10, 64); err != nil {
				return false
			}
		}
		if f == 2 {
			msg.CreateTime = n
		} else {
			msg.MsgID = n
		}
		return true
	}
	if f >= flatSkipped {
		return true
	}
	v := string(value)
	switch f {
	case 0:
		msg.ToUserName = message.CDATA(v)
	case 1:
		msg.FromUserName = message.CDATA(v)
	case 3:
		msg.MsgType = message.MsgType(v)
	case 5:
		msg.Content = v
	case 6:
		msg.Recognition = v
	case 7:
		msg.PicURL = v
	case 8:
		msg.MediaID = v
	case 9:
		msg.Event = message.EventType(v)
	case 10:
		msg.EventKey = v
	}
	return true
}

// parseFlat fills msg from a flat body, reporting false (msg partly
// filled) for anything it does not read exactly as encoding/xml would.
func parseFlat(body []byte, msg *message.MixMessage) bool {
	if !utf8.Valid(body) {
		return false
	}
	for _, c := range body {
		// Carriage returns (encoding/xml rewrites them), control characters
		// (it refuses them) and entities: left to encoding/xml.
		if c < 0x20 && c != '\t' && c != '\n' || c == '&' {
			return false
		}
	}
	if bytes.Contains(body, []byte("\uFFFE")) || bytes.Contains(body, []byte("\uFFFF")) {
		return false
	}
	rest, ok := bytes.CutPrefix(bytes.TrimLeft(body, " \t\n"), []byte("<xml>"))
	if !ok {
		return false
	}
	var seen uint32
	for {
		rest = bytes.TrimLeft(rest, " \t\n")
		if end, ok := bytes.CutPrefix(rest, []byte("</xml>")); ok {
			return len(bytes.TrimLeft(end, " \t\n")) == 0
		}
		// <Name>value</Name>
		if len(rest) < 2 || rest[0] != '<' {
			return false
		}
		gt := bytes.IndexByte(rest, '>')
		if gt < 0 {
			return false
		}
		name := rest[1:gt]
		f := flatField(name)
		if f < 0 {
			return false
		}
		bit := uint32(1) << f
		if seen&bit != 0 {
			return false // a repeated field
		}
		seen |= bit
		rest = rest[gt+1:]
		value, after, ok := flatValue(rest, name)
		if !ok || !setFlat(msg, f, value) {
			return false
		}
		rest = after
	}
}

// flatValue reads an element's text, up to its end tag </name>: plain text
// and CDATA sections, concatenated. value aliases b when it is one piece.
func flatValue(b, name []byte) (value, rest []byte, ok bool) {
	var sb []byte
	parts := 0
	for {
		lt := bytes.IndexByte(b, '<')
		if lt < 0 {
			return nil, nil, false
		}
		text := b[:lt]
		if bytes.Contains(text, []byte("]]>")) {
			return nil, nil, false
		}
		if len(text) > 0 {
			if parts == 0 {
				sb = text[:len(text):len(text)]
			} else {
				sb = append(sb, text...)
			}
			parts++
		}
		b = b[lt:]
		if c, ok := bytes.CutPrefix(b, []byte("<![CDATA[")); ok {
			end := bytes.Index(c, []byte("]]>"))
			if end < 0 {
				return nil, nil, false
			}
			if parts == 0 {
				// The value is this section, unless more follows.
				sb = c[:end:end]
			} else {
				sb = append(sb, c[:end]...)
			}
			parts++
			b = c[end+3:]
			continue
		}
		if len(b) < len(name)+3 || b[1] != '/' || !bytes.Equal(b[2:2+len(name)], name) || b[2+len(name)] != '>' {
			return nil, nil, false
		}
		return sb, b[len(name)+3:], true
	}
}
