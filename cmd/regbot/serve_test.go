package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"regbot/store/storetest"
)

// freeAddr returns a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeRefusesBadConfig: each bad config makes serve exit non-zero with
// one line on stderr naming the problem.
func TestServeRefusesBadConfig(t *testing.T) {
	t.Parallel()
	insecure := "blob:\n  insecure_no_encryption: true\n  dir: " + t.TempDir() + "\n"
	tests := []struct {
		name   string
		config string
		want   string
	}{
		{"unreachable database", "privacy:\n  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=\ndatabase:\n  url: postgres://postgres@127.0.0.1:1/test?connect_timeout=2\n" + insecure, "database"},
		{"database that does not exist", "privacy:\n  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=\ndatabase:\n  url: postgres://postgres@127.0.0.1:5432/regbot_no_such_db?connect_timeout=5\n" + insecure, "regbot_no_such_db"},
		{"user that does not exist", "privacy:\n  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=\ndatabase:\n  url: postgres://regbot_no_such_user:pw@127.0.0.1:5432/test?connect_timeout=5\n" + insecure, "regbot_no_such_user"},
		{"malformed YAML", "http:\n  listen: [127.0.0.1\n" + insecure, "config"},
		{"unknown key", "htp:\n  listen: 127.0.0.1:0\n" + insecure, "htp"},
		{"no encryption key", "http:\n  listen: 127.0.0.1:0\n", "encryption_key"},
		// A schema of the test's own: serve migrates before it reaches Redis.
		{"unreachable redis", "privacy:\n  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=\ndatabase:\n  url: " + storetest.PostgresURL(t) + "\nredis:\n  url: redis://127.0.0.1:1/0\n" + insecure, "redis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, regbotBin, "serve", "--config", writeConfig(t, tt.config))
			cmd.Stderr = &stderr
			err := cmd.Run()
			if err == nil {
				t.Fatal("serve started with a bad config")
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "regbot serve:") || !strings.Contains(lines[0], tt.want) {
				t.Fatalf("want one line naming %q, got:\n%s", tt.want, stderr.String())
			}
			if strings.Contains(stderr.String(), "goroutine ") {
				t.Fatalf("a stack dump instead of a message:\n%s", stderr.String())
			}
		})
	}
}

// TestServeEndpointsAndShutdown runs serve on PostgreSQL and Redis, checks
// /healthz, /readyz, /metrics and the web chat, and that SIGTERM stops it
// cleanly.
func TestServeEndpointsAndShutdown(t *testing.T) {
	t.Parallel()
	_, prefix := storetest.RedisPrefix(t)
	addr := freeAddr(t)
	cfg := fmt.Sprintf("http:\n  listen: %s\nprivacy:\n  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=\ndatabase:\n  url: %s\nredis:\n  url: %s\n  prefix: %q\nblob:\n  dir: %s\n  encryption_key: %s\nlog:\n  format: text\n",
		addr, storetest.PostgresURL(t), storetest.RedisURL, prefix, t.TempDir(), "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	base, stderr, cmd := startServe(t, addr, cfg, "/healthz")
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  "ok (postgres, redis)",
		"/metrics": "regbot_turns_total",
		"/chat":    "互联网营销师",
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, body lacks %q:\n%.300s", path, resp.StatusCode, want, body)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM:\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop after SIGTERM:\n%s", stderr.String())
	}
	for _, secret := range []string{"MDEyMzQ1Njc4OWFi"} {
		if strings.Contains(stderr.String(), secret) {
			t.Errorf("a secret is in the log:\n%s", stderr.String())
		}
	}
}

// lockedBuffer collects a running subprocess's output; tests read it while
// the process still writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs `regbot serve` with cfg (listening on addr) and waits
// until path answers 200. The process is killed when the test ends.
func startServe(t *testing.T, addr, cfg, path string) (base string, stderr *lockedBuffer, cmd *exec.Cmd) {
	t.Helper()
	stderr = &lockedBuffer{}
	cmd = exec.Command(regbotBin, "serve", "--config", writeConfig(t, cfg))
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base = "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get(base + path); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stderr, cmd
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
