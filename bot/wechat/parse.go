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
	*msg = message.MixMessage{}
	return xml.Unmarshal(body, msg)
}

// flatField is a field the scanner fills: a string or an int64 of
// MixMessage, or a string field it may leave out (skip).
type flatField struct {
	str  func(m *message.MixMessage) *string
	num  func(m *message.MixMessage) *int64
	skip bool
}

// flatFields are the elements the scanner reads, by name (case matters, as
// for encoding/xml). The skipped ones are string fields of MixMessage that
// the adapter does not read.
var flatFields = map[string]flatField{
	"ToUserName":   {str: func(m *message.MixMessage) *string { return (*string)(&m.ToUserName) }},
	"FromUserName": {str: func(m *message.MixMessage) *string { return (*string)(&m.FromUserName) }},
	"CreateTime":   {num: func(m *message.MixMessage) *int64 { return &m.CreateTime }},
	"MsgType":      {str: func(m *message.MixMessage) *string { return (*string)(&m.MsgType) }},
	"MsgId":        {num: func(m *message.MixMessage) *int64 { return &m.MsgID }},
	"Content":      {str: func(m *message.MixMessage) *string { return &m.Content }},
	"Recognition":  {str: func(m *message.MixMessage) *string { return &m.Recognition }},
	"PicUrl":       {str: func(m *message.MixMessage) *string { return &m.PicURL }},
	"MediaId":      {str: func(m *message.MixMessage) *string { return &m.MediaID }},
	"Event":        {str: func(m *message.MixMessage) *string { return (*string)(&m.Event) }},
	"EventKey":     {str: func(m *message.MixMessage) *string { return &m.EventKey }},
	"Format":       {skip: true},
	"ThumbMediaId": {skip: true},
	"Label":        {skip: true},
	"Title":        {skip: true},
	"Description":  {skip: true},
	"Url":          {skip: true},
	"Ticket":       {skip: true},
	"MenuId":       {skip: true},
	"SessionFrom":  {skip: true},
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
		name := string(rest[1:gt])
		f, known := flatFields[name]
		if !known {
			return false
		}
		bit := uint32(1) << flatIndex(name)
		if seen&bit != 0 {
			return false // a repeated field
		}
		seen |= bit
		rest = rest[gt+1:]
		value, after, ok := flatValue(rest, name)
		if !ok {
			return false
		}
		rest = after
		switch {
		case f.str != nil:
			*f.str(msg) = value
		case f.num != nil:
			n := int64(0)
			if value != "" {
				var err error
				if n, err = strconv.ParseInt(strings.TrimSpace(value), 10, 64); err != nil {
					return false
				}
			}
			*f.num(msg) = n
		}
	}
}

// flatValue reads an element's text, up to its end tag </name>: plain text
// and CDATA sections, concatenated.
func flatValue(b []byte, name string) (value string, rest []byte, ok bool) {
	var sb []byte
	parts := 0
	for {
		lt := bytes.IndexByte(b, '<')
		if lt < 0 {
			return "", nil, false
		}
		text := b[:lt]
		if bytes.Contains(text, []byte("]]>")) {
			return "", nil, false
		}
		if len(text) > 0 {
			sb = append(sb, text...)
			parts++
		}
		b = b[lt:]
		if c, ok := bytes.CutPrefix(b, []byte("<![CDATA[")); ok {
			end := bytes.Index(c, []byte("]]>"))
			if end < 0 {
				return "", nil, false
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
		if len(b) < len(name)+3 || b[1] != '/' || string(b[2:2+len(name)]) != name || b[2+len(name)] != '>' {
			return "", nil, false
		}
		return string(sb), b[len(name)+3:], true
	}
}

// flatIndex numbers the scanner's fields, for spotting repeats.
func flatIndex(name string) int {
	return flatOrder[name]
}

var flatOrder = func() map[string]int {
	m := make(map[string]int, len(flatFields))
	for name := range flatFields {
		m[name] = len(m)
	}
	return m
}()
