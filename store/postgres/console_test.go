package postgres_test

import (
	"testing"

	"regbot/store/storetest"
)

// TestConsole runs the console's conformance suite on PostgreSQL.
func TestConsole(t *testing.T) {
	t.Parallel()
	storetest.RunConsole(t, func(t *testing.T) storetest.ConsoleStore { return newStore(t) })
}
