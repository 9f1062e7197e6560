package web

import (
	"container/list"
	"context"
	"sync"
	"time"

	"regbot/dialogs"
	"regbot/store"
)

// Sender says who wrote an Entry.
type Sender string

// The senders of entries.
const (
	FromUser Sender = "user"
	FromBot  Sender = "bot"
)

// Entry is one message of a web conversation as the page shows it.
type Entry struct {
	// ID numbers a visitor's entries from 1 upwards; History.Append sets it.
	ID   int64
	From Sender
	Text string
	// Choices are the buttons of a bot message.
	Choices []dialogs.Choice
	// Link is a link a bot message shows.
	Link *dialogs.Link
	// Ask is set on the bot message that asks a question; the page adapts
	// the input box to the kind of answer.
	Ask *dialogs.Ask
	// Image is an image the bot sent; the page loads it from the image URL.
	Image *dialogs.OutImage
	// Upload is the file name of an image the visitor sent (the plan's
	// word for an image when the browser gave none). The bytes are not kept here.
	Upload string
	At     time.Time
}

// size is roughly the memory an entry holds.
func (e Entry) size() int64 {
	n := int64(64 + len(e.Text) + len(e.Upload))
	for _, c := range e.Choices {
		n += int64(32 + len(c.ID) + len(c.Label))
	}
	if e.Link != nil {
		n += int64(len(e.Link.Label) + len(e.Link.URL))
	}
	if e.Image != nil {
		n += int64(len(e.Image.Name) + len(e.Image.Data))
	}
	return n
}

// History keeps the recent messages of each web visitor, so that a reload of
// the page shows the conversation so far. It is a view for the visitor, not
// the record: the record of what candidates said is the Router's Record.
type History interface {
	// Append adds entries to user's history, numbering them, and returns
	// them with their ids.
	Append(ctx context.Context, user string, entries []Entry) ([]Entry, error)
	// Recent returns user's kept entries, oldest first (none: empty).
	Recent(ctx context.Context, user string) ([]Entry, error)
	// Entry returns one of user's entries, or store.ErrNotFound.
	Entry(ctx context.Context, user string, id int64) (Entry, error)
}

// MemoryHistory is a History in process memory, bounded three ways: the
// last perUser entries of each visitor, at most maxUsers visitors and about
// maxBytes in all; the least recently active visitors are dropped first. It
// is safe for concurrent use. Histories do not survive a restart, and each
// instance behind a load balancer has its own.
type MemoryHistory struct {
	perUser  int
	maxUsers int
	maxBytes int64

	mu    sync.Mutex
	bytes int64
	lru   *list.List // of *userHistory, most recently active first
	users map[string]*list.Element
}

type userHistory struct {
	user    string
	entries []Entry
	next    int64
	bytes   int64
}

// NewMemoryHistory returns an empty MemoryHistory with the given bounds.
func NewMemoryHistory(perUser, maxUsers int, maxBytes int64) *MemoryHistory {
	return &MemoryHistory{
		perUser: max(perUser, 1), maxUsers: max(maxUsers, 1), maxBytes: max(maxBytes, 1),
		lru: list.New(), users: map[string]*list.Element{},
	}
}

// Append implements History.
func (m *MemoryHistory) Append(_ context.Context, user string, entries []Entry) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.users[user]
	if !ok {
		el = m.lru.PushFront(&userHistory{user: user, next: 1})
		m.users[user] = el
	}
	m.lru.MoveToFront(el)
	h := el.Value.(*userHistory)
	out := make([]Entry, len(entries))
	for i, e := range entries {
		e.ID = h.next
		h.next++
		out[i] = e
		h.entries = append(h.entries, e)
		h.bytes += e.size()
		m.bytes += e.size()
	}
	for len(h.entries) > m.perUser || (h.bytes > m.maxBytes && len(h.entries) > 1) {
		m.dropOldest(h)
	}
	for m.lru.Len() > 1 && (m.lru.Len() > m.maxUsers || m.bytes > m.maxBytes) {
		m.evict(m.lru.Back())
	}
	return out, nil
}

func (m *MemoryHistory) dropOldest(h *userHistory) {
	n := h.entries[0].size()
	h.bytes -= n
	m.bytes -= n
	h.entries[0] = Entry{}
	h.entries = h.entries[1:]
}

func (m *MemoryHistory) evict(el *list.Element) {
	h := el.Value.(*userHistory)
	m.bytes -= h.bytes
	m.lru.Remove(el)
	delete(m.users, h.user)
}

// Recent implements History.
func (m *MemoryHistory) Recent(_ context.Context, user string) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.users[user]
	if !ok {
		return []Entry{}, nil
	}
	m.lru.MoveToFront(el)
	h := el.Value.(*userHistory)
	return append([]Entry(nil), h.entries...), nil
}

// Entry implements History.
func (m *MemoryHistory) Entry(_ context.Context, user string, id int64) (Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.users[user]
	if !ok {
		return Entry{}, store.ErrNotFound
	}
	h := el.Value.(*userHistory)
	if len(h.entries) == 0 {
		return Entry{}, store.ErrNotFound
	}
	// Ids are consecutive, so the entry's position follows from the first.
	i := id - h.entries[0].ID
	if i < 0 || i >= int64(len(h.entries)) {
		return Entry{}, store.ErrNotFound
	}
	return h.entries[i], nil
}

// usage reports the visitors and bytes held (tests).
func (m *MemoryHistory) usage() (users int, bytes int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len(), m.bytes
}
