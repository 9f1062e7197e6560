package memory_test

import (
	"testing"

	"regbot/store/memory"
	"regbot/store/storetest"
)

// TestConsole runs the console's conformance suite on the memory store.
func TestConsole(t *testing.T) {
	t.Parallel()
	storetest.RunConsole(t, func(*testing.T) storetest.ConsoleStore { return memory.New() })
}
