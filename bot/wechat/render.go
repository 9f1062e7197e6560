package wechat

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"regbot/dialogs"
)

// maxCustomerMessages is how many customer-service messages WeChat accepts
// per candidate message; replies are combined to stay within it.
const maxCustomerMessages = 5

// maxTextBytes bounds a text message, passive or customer-service (WeChat
// refuses or cuts text beyond 2048 bytes); longer texts are split and short
// ones combined up to it.
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

// numbered renders choices as "1. label" lines; the candidate answers with the
// number or the label.
func numbered(choices []dialogs.Choice) string {
	var b strings.Builder
	for i, c := range choices {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(numberedLine(i+1, c.Label))
	}
	return b.String()
}

// numberedLine is choice n (from 1) as the candidate sees it: "1. label".
func numberedLine(n int, label string) string { return strconv.Itoa(n) + ". " + label }

// plainText renders m as one text message (choices as numbered lines).
func plainText(m dialogs.Outbound) string {
	return joinNonEmpty("\n", bodyText(m), numbered(m.Choices))
}

// SplitPassive is the WeChat split of a turn's messages (a bot.Split): the
// first message's text, cut to the passive reply's limit, leaves inline in
// the webhook's response, joined with the texts after it while they fit
// (choices as numbered lines); everything else (the rest of a long text,
// images and what follows them, texts that do not fit) goes by
// customer-service message, through the outbox. Most turns answer with one
// passive reply: no outbox row, no settlement, no API call.
func SplitPassive(msgs []dialogs.Outbound) (inline, rest []dialogs.Outbound) {
	return splitWith(msgs, true)
}

// SplitFor is the WeChat split for cfg: SplitPassive, or with
// join_replies false only the first message as the passive reply.
func SplitFor(cfg Config) func(msgs []dialogs.Outbound) (inline, rest []dialogs.Outbound) {
	join := cfg.joinReplies()
	return func(msgs []dialogs.Outbound) ([]dialogs.Outbound, []dialogs.Outbound) { return splitWith(msgs, join) }
}

func splitWith(msgs []dialogs.Outbound, join bool) (inline, rest []dialogs.Outbound) {
	reply, rest, ok := splitPassive(msgs, join)
	if !ok {
		return nil, msgs
	}
	return []dialogs.Outbound{{Text: reply}}, rest
}

// splitPassive picks the passive reply of a turn: the first message as
// text, and the texts of the messages after it, in order, as long as the
// reply stays within maxTextBytes. A message's image ends the reply (the
// image and everything after it go out by customer-service message, in
// order), and so does a text that does not fit; without join the reply is
// the first message alone. ok is false when the first message has no text
// to reply with.
func splitPassive(msgs []dialogs.Outbound, join bool) (reply string, rest []dialogs.Outbound, ok bool) {
	if len(msgs) == 0 {
		return "", nil, false
	}
	first := msgs[0]
	reply = plainText(first)
	if reply == "" {
		return "", msgs, false
	}
	chunks := splitText(reply, maxTextBytes)
	reply = chunks[0]
	if len(chunks) > 1 || first.Image != nil || !join {
		for _, c := range chunks[1:] {
			rest = append(rest, dialogs.Outbound{Text: c})
		}
		if first.Image != nil {
			rest = append(rest, dialogs.Outbound{Image: first.Image})
		}
		return reply, append(rest, msgs[1:]...), true
	}
	i := 1
	for ; i < len(msgs); i++ {
		m := msgs[i]
		text := plainText(m)
		if text == "" || !fits(reply, text) {
			break
		}
		reply += "\n\n" + text
		if m.Image != nil {
			rest = append(rest, dialogs.Outbound{Image: m.Image})
			i++
			break
		}
	}
	return reply, append(rest, msgs[i:]...), true
}

// splitText cuts s into pieces of at most limit bytes, at line breaks where
// it can and else between characters.
func splitText(s string, limit int) []string {
	var out []string
	for len(s) > limit {
		cut := strings.LastIndexByte(s[:limit], '\n')
		if cut <= 0 {
			cut = limit
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
		}
		out = append(out, strings.TrimRight(s[:cut], "\n"))
		s = strings.TrimLeft(s[cut:], "\n")
	}
	return append(out, s)
}

// customerParts renders msgs as at most maxCustomerMessages
// customer-service messages: consecutive texts are joined, a text before a
// question becomes the head of its msgmenu and a text after it the tail;
// if that is still too many, neighbouring texts and menus are flattened
// into one text; as a last resort images, then whatever still does not fit,
// are dropped (dropped counts them). Texts over maxTextBytes are split.
func customerParts(msgs []dialogs.Outbound) (parts []part, dropped int) {
	var raw []part
	for _, m := range msgs {
		chunks := splitText(bodyText(m), maxTextBytes)
		last := len(chunks) - 1
		for _, c := range chunks[:last] {
			raw = append(raw, part{kind: partText, text: c})
		}
		switch {
		case len(m.Choices) > 0:
			raw = append(raw, part{kind: partMenu, text: chunks[last], choices: m.Choices})
		case chunks[last] != "":
			raw = append(raw, part{kind: partText, text: chunks[last]})
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
		if mergeNeighbours(&parts) {
			continue
		}
		if dropLastImage(&parts) {
			dropped++
			continue
		}
		// Nothing left to combine: the overflow cannot be sent.
		dropped += len(parts) - maxCustomerMessages
		parts = parts[:maxCustomerMessages]
	}
	return parts, dropped
}

// mergeNeighbours flattens the first two neighbouring text or menu parts
// that fit in one text message into it.
func mergeNeighbours(parts *[]part) bool {
	ps := *parts
	for i := 0; i+1 < len(ps); i++ {
		a, b := ps[i], ps[i+1]
		if a.kind == partImage || b.kind == partImage || !fits(a.flat(), b.flat()) {
			continue
		}
		ps[i] = part{kind: partText, text: joinNonEmpty("\n\n", a.flat(), b.flat())}
		*parts = append(ps[:i+1], ps[i+2:]...)
		return true
	}
	return false
}

// dropLastImage removes the last image part.
func dropLastImage(parts *[]part) bool {
	ps := *parts
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].kind == partImage {
			*parts = append(ps[:i], ps[i+1:]...)
			return true
		}
	}
	return false
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
			// Numbered as the plain-text lines are (the question's hint
			// says to reply with the number). A click comes back as a text
			// message with the item's content ("1. label", which the engine
			// reads as choice 1) and the id as bizmsgmenuid (numeric).
			items[i] = message.MsgmenuItem{ID: strconv.Itoa(i + 1), Content: numberedLine(i+1, c.Label)}
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
