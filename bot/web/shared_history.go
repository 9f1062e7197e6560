package web

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"regbot/dialogs"
	"regbot/store"
)

// HistoryStore keeps numbered history items shared by every instance
// (store/redis.Store).
type HistoryStore interface {
	AppendHistory(ctx context.Context, id store.Identity, items [][]byte, keep int, idle time.Duration) (int64, error)
	History(ctx context.Context, id store.Identity) ([]store.HistoryItem, error)
}

// SharedHistory is a History every instance behind a load balancer sees, so
// a reload that lands on another instance shows the same conversation.
type SharedHistory struct {
	st   HistoryStore
	keep int
	idle time.Duration
}

// NewSharedHistory keeps the last keep entries of each visitor in st, for
// idle after the visitor's last message.
func NewSharedHistory(st HistoryStore, keep int, idle time.Duration) *SharedHistory {
	return &SharedHistory{st: st, keep: max(keep, 1), idle: idle}
}

// wireEntry is an Entry as stored: unlike dialogs.OutImage, it keeps the
// image bytes.
type wireEntry struct {
	From      Sender           `json:"from"`
	Text      string           `json:"text,omitempty"`
	Choices   []dialogs.Choice `json:"choices,omitempty"`
	Link      *dialogs.Link    `json:"link,omitempty"`
	Ask       *dialogs.Ask     `json:"ask,omitempty"`
	ImageName string           `json:"image_name,omitempty"`
	ImageData []byte           `json:"image_data,omitempty"`
	Upload    string           `json:"upload,omitempty"`
	At        time.Time        `json:"at"`
}

func visitorIdentity(user string) store.Identity {
	return store.Identity{Channel: Channel, UserID: user}
}

// Append implements History.
func (h *SharedHistory) Append(ctx context.Context, user string, entries []Entry) ([]Entry, error) {
	items := make([][]byte, len(entries))
	for i, e := range entries {
		w := wireEntry{From: e.From, Text: e.Text, Choices: e.Choices, Link: e.Link, Ask: e.Ask, Upload: e.Upload, At: e.At}
		if e.Image != nil {
			w.ImageName, w.ImageData = e.Image.Name, e.Image.Data
		}
		data, err := json.Marshal(w)
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		items[i] = data
	}
	first, err := h.st.AppendHistory(ctx, visitorIdentity(user), items, h.keep, h.idle)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(entries))
	for i, e := range entries {
		e.ID = first + int64(i)
		out[i] = e
	}
	return out, nil
}

// Recent implements History.
func (h *SharedHistory) Recent(ctx context.Context, user string) ([]Entry, error) {
	items, err := h.st.History(ctx, visitorIdentity(user))
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(items))
	for _, it := range items {
		var w wireEntry
		if err := json.Unmarshal(it.Data, &w); err != nil {
			return nil, fmt.Errorf("history item %d: %w", it.ID, err)
		}
		e := Entry{ID: it.ID, From: w.From, Text: w.Text, Choices: w.Choices, Link: w.Link, Ask: w.Ask, Upload: w.Upload, At: w.At}
		if w.ImageName != "" || len(w.ImageData) > 0 {
			e.Image = &dialogs.OutImage{Name: w.ImageName, Data: w.ImageData}
		}
		out = append(out, e)
	}
	return out, nil
}

// Entry implements History.
func (h *SharedHistory) Entry(ctx context.Context, user string, id int64) (Entry, error) {
	entries, err := h.Recent(ctx, user)
	if err != nil {
		return Entry{}, err
	}
	for _, e := range entries {
		if e.ID == id {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("history entry %d: %w", id, store.ErrNotFound)
}
