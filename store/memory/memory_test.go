package memory_test

import (
	"context"
	"testing"

	"regbot/store"
	"regbot/store/memory"
	"regbot/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		m := memory.New()
		return storetest.Stores{Fast: m, Locker: m, Record: m, Limiter: m, Inspect: inspector(m),
			Queue: func(ctx context.Context, msgs []store.Outgoing) error {
				_, err := m.QueueOutbox(ctx, msgs)
				return err
			},
			Outbox: func(ctx context.Context, id store.Identity) ([]store.Delivery, error) {
				app, err := m.Application(ctx, id, "internet-marketing-l4")
				if err != nil {
					return nil, err
				}
				return m.Deliveries(ctx, app.CandidateID, 0)
			}}
	})
}

// inspector reads the memory record back in the suite's form.
func inspector(m *memory.Store) func(ctx context.Context, id store.Identity, planID string) (storetest.Recorded, error) {
	return func(ctx context.Context, id store.Identity, planID string) (storetest.Recorded, error) {
		app, err := m.Application(ctx, id, planID)
		if err != nil {
			return storetest.Recorded{}, err
		}
		rec := storetest.Recorded{Condition: app.Condition, Status: app.Status, Answers: app.Answers, WorkHistory: app.WorkHistory}
		events, err := m.StatusEvents(ctx, id, planID)
		if err != nil {
			return rec, err
		}
		for _, e := range events {
			rec.StatusEvents = append(rec.StatusEvents, storetest.StatusChange{From: e.From, To: e.To, Actor: e.Actor, Reason: e.Reason})
		}
		docs, err := m.Documents(ctx, id, planID)
		if err != nil {
			return rec, err
		}
		for _, d := range docs {
			rec.Documents = append(rec.Documents, storetest.RecordedDocument{Document: d.Document, Current: d.SupersededAt.IsZero()})
		}
		tickets, err := m.Tickets(ctx, id)
		if err != nil {
			return rec, err
		}
		for _, tk := range tickets {
			rec.Tickets = append(rec.Tickets, storetest.RecordedTicket{Reason: tk.Reason, Text: tk.Text})
		}
		msgs, err := m.InboundMessages(ctx, id)
		if err != nil {
			return rec, err
		}
		for _, msg := range msgs {
			rec.Inbound = append(rec.Inbound, storetest.RecordedMessage{MsgID: msg.MsgID, Text: msg.Text})
		}
		return rec, nil
	}
}
