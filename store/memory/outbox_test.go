package memory_test

import (
	"testing"

	"regbot/store/memory"
	"regbot/store/storetest"
)

func TestOutboxConformance(t *testing.T) {
	t.Parallel()
	storetest.RunOutbox(t, func(t *testing.T) storetest.OutboxStores {
		m := memory.New()
		return storetest.OutboxStores{Outbox: m, Record: m}
	})
}
