package web

import (
	"context"
	"fmt"

	"regbot/bot"
)

// Deliver adds one outbox message (a status notification, a staff reply,
// a reminder) to the visitor's history, skipping the first d.Done messages
// (added by an earlier attempt): notify's Sender. The page shows it when it
// next asks for the history (it polls GET api/history?after=N while open;
// a visitor who comes back later finds it on load).
func (c *Chat) Deliver(ctx context.Context, d bot.Delivery) (int, error) {
	if d.Done >= len(d.Messages) {
		return len(d.Messages), nil
	}
	now := c.now()
	entries := make([]Entry, 0, len(d.Messages)-d.Done)
	for _, m := range d.Messages[d.Done:] {
		entries = append(entries, Entry{From: FromBot, Text: m.Text, Choices: m.Choices, Link: m.Link, Ask: m.Ask, Image: m.Image, At: now})
	}
	if _, err := c.history.Append(ctx, d.UserID, entries); err != nil {
		return d.Done, fmt.Errorf("web history: %w", err)
	}
	return len(d.Messages), nil
}
