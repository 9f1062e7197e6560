package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// TestGeneratedRecordKey: with a database and no privacy.record_key, the
// key is generated in data_dir (mode 0600) and used again on the next run;
// an instance with another data_dir, hence another generated key, is
// refused by the record instead of sealing rows nobody else can open.
func TestGeneratedRecordKey(t *testing.T) {
	t.Parallel()
	dbURL := storetest.PostgresURL(t)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGBOT_RECORD_KEY=") {
			env = append(env, kv)
		}
	}
	migrate := func(dataDir string) (string, error) {
		cfg := fmt.Sprintf("data_dir: %s\ndatabase:\n  url: %s\nblob:\n  insecure_no_encryption: true\n", dataDir, dbURL)
		cmd := exec.Command(regbotBin, "migrate", "--config", writeConfig(t, cfg))
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	first := t.TempDir()
	out, err := migrate(first)
	keyFile := filepath.Join(first, "record.key")
	if err != nil || !strings.Contains(out, "using the record key in "+keyFile) {
		t.Fatalf("first migrate: %v: %s", err, out)
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode())
	}
	key, _ := os.ReadFile(keyFile)
	if out, err := migrate(first); err != nil {
		t.Fatalf("second migrate with the same data_dir: %v: %s", err, out)
	}
	if again, _ := os.ReadFile(keyFile); string(again) != string(key) {
		t.Fatal("the key file changed on the second run")
	}
	out, err = migrate(t.TempDir())
	if err == nil || !strings.Contains(out, "sealed under another record key") || strings.Contains(out, strings.TrimSpace(string(key))) {
		t.Fatalf("migrate with another data_dir: %v: %s", err, out)
	}
}
