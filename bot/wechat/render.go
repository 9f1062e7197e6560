package wechat

import (
	"strconv"
	"strings"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"regbot/dialogs"
)

// maxCustomerMessages is how many customer-service messages WeChat accepts
// per candidate message; replies are combined to stay within it.
const maxCustomerMessages = 5

// maxTextBytes bounds a combined text message (WeChat cuts text messages at
// 2048 bytes).
const maxTextBytes = 2000

// partKind is what a customer-service message carries.
type partKind int

const (
	partText partKind = iota
	// partMenu is a msgmenu: head text, clickable choices, tail text.
	partMenu
	partImage
)

// part is one customer-service message to send.
type part struct {
	kind    partKind
	text    string // text, or the head of a menu
	choices []dialogs.Choice
	tail    string
	image   *dialogs.OutImage
	// mediaID is the image's temporary media, once uploaded.
	mediaID string
}

// bodyText is what m says as text: its text and its link. Choices are not
// included.
func bodyText(m dialogs.Outbound) string {
	s := strings.TrimSpace(m.Text)
	if m.Link != nil {
		// WeChat makes a bare URL in a text message clickable.
		s = joinNonEmpty("\n", s, m.Link.Label+"："+m.Link.URL)
	}
	return s
}

// numbered renders choices as "1. 是" lines; the candidate answers with the
// number or the label.
func numbered(choices []dialogs.Choice) string {
	var b strings.Builder
	for i, c := range choices {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(". ")
		b.WriteString(c.Label)
	}
	return b.String()
}

// plainText renders m as one text message (choices as numbered lines).
func plainText(m dialogs.Outbound) string {
	return joinNonEmpty("\n", bodyText(m), numbered(m.Choices))
}

// splitPassive picks the passive reply of a turn: the first message as
// text. Its image, if any, and the other messages go out by
// customer-service message. ok is false when the first message has no text
// to reply with.
func splitPassive(msgs []dialogs.Outbound) (reply string, rest []dialogs.Outbound, ok bool) {
	if len(msgs) == 0 {
		return "", nil, false
	}
	first := msgs[0]
	reply = plainText(first)
	if reply == "" {
		return "", msgs, false
	}
	if first.Image != nil {
		rest = append(rest, dialogs.Outbound{Image: first.Image})
	}
	return reply, append(rest, msgs[1:]...), true
}

// customerParts renders msgs as at most maxCustomerMessages
// customer-service messages: consecutive texts are joined, a text before a
// question becomes the head of its msgmenu and a text after it the tail;
// if that is still too many, neighbouring texts and menus are flattened
// into one text, and as a last resort images beyond the limit are dropped
// (dropped counts them).
func customerParts(msgs []dialogs.Outbound) (parts []part, dropped int) {
	var raw []part
	for _, m := range msgs {
		t := bodyText(m)
		switch {
		case len(m.Choices) > 0:
			raw = append(raw, part{kind: partMenu, text: t, choices: m.Choices})
		case t != "":
			raw = append(raw, part{kind: partText, text: t})
		}
		if m.Image != nil && len(m.Image.Data) > 0 {
			raw = append(raw, part{kind: partImage, image: m.Image})
		}
	}
	for _, p := range raw {
		if n := len(parts); n > 0 {
			last := &parts[n-1]
			switch {
			case last.kind == partText && p.kind == partText && fits(last.text, p.text):
				last.text += "\n\n" + p.text
				continue
			case last.kind == partText && p.kind == partMenu && fits(last.text, p.text):
				p.text = joinNonEmpty("\n\n", last.text, p.text)
				*last = p
				continue
			case last.kind == partMenu && last.tail == "" && p.kind == partText && fits(last.text, p.text):
				last.tail = p.text
				continue
			}
		}
		parts = append(parts, p)
	}
	for len(parts) > maxCustomerMessages {
		merged := false
		for i := 0; i+1 < len(parts); i++ {
			a, b := parts[i], parts[i+1]
			if a.kind == partImage || b.kind == partImage {
				continue
			}
			parts[i] = part{kind: partText, text: joinNonEmpty("\n\n", a.flat(), b.flat())}
			parts = append(parts[:i+1], parts[i+2:]...)
			merged = true
			break
		}
		if merged {
			continue
		}
		for i := len(parts) - 1; i >= 0; i-- {
			if parts[i].kind == partImage {
				parts = append(parts[:i], parts[i+1:]...)
				dropped++
				break
			}
		}
	}
	return parts, dropped
}

// flat renders a text or menu part as plain text.
func (p part) flat() string {
	return joinNonEmpty("\n", p.text, numbered(p.choices), p.tail)
}

// customerMessage builds the SDK message of a text or menu part.
func (p part) customerMessage(to string) *message.CustomerMessage {
	if p.kind == partMenu {
		items := make([]message.MsgmenuItem, len(p.choices))
		for i, c := range p.choices {
			// A click comes back as a text message with the label as its
			// content (and the id as bizmsgmenuid, which must be numeric).
			items[i] = message.MsgmenuItem{ID: strconv.Itoa(i + 1), Content: c.Label}
		}
		return &message.CustomerMessage{ToUser: to, Msgtype: "msgmenu",
			Msgmenu: &message.MediaMsgmenu{HeadContent: p.text, List: items, TailContent: p.tail}}
	}
	return message.NewCustomerTextMessage(to, p.text)
}

func fits(a, b string) bool { return len(a)+len(b)+2 <= maxTextBytes }

func joinNonEmpty(sep string, ss ...string) string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, sep)
}
