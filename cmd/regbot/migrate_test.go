package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"regbot/store/storetest"
)

// TestMigrateCommand: the first run migrates a fresh schema, the second
// finds it up to date; without a database there is nothing to migrate.
func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	cfg := fmt.Sprintf("privacy:\n  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=\ndatabase:\n  url: %s\nblob:\n  insecure_no_encryption: true\n  dir: %s\n", storetest.PostgresURL(t), t.TempDir())
	path := writeConfig(t, cfg)
	out, err := exec.Command(regbotBin, "migrate", "--config", path).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "database migrated from version 0 to ") {
		t.Fatalf("first migrate: %v: %s", err, out)
	}
	out, err = exec.Command(regbotBin, "migrate", "--config", path).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "database schema is up to date (version ") {
		t.Fatalf("second migrate: %v: %s", err, out)
	}
	out, err = exec.Command(regbotBin, "migrate", "--config",
		writeConfig(t, "blob:\n  insecure_no_encryption: true\n  dir: "+t.TempDir()+"\n")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "database.url is empty") {
		t.Fatalf("migrate without a database: %v %s", err, out)
	}
}
