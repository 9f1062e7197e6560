package readmetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/plans"
	"regbot/store/storetest"
)

// Bounds of the snippets. `go run` compiles regbot in the clone first
// (about a minute on a busy machine, seconds when the build cache has it).
const (
	runTimeout   = 4 * time.Minute  // a block that runs to its end
	serveTimeout = 4 * time.Minute  // until a server says it is serving
	stopTimeout  = 40 * time.Second // from Ctrl-C to the server's exit
)

// TestREADME clones the repository at HEAD (so only committed files exist,
// as on a fresh machine), checks the links and paths of README.md and
// docs/, and runs every ```sh block of README.md as written, in order, each
// in a fresh bash (-e) at the clone's root: files carry over from one block
// to the next, variables do not. A block that serves (`regbot serve`) is
// started, probed on /healthz, /readyz and /chat and stopped with Ctrl-C
// (SIGINT to its process group, as a terminal does); a chat block gets the
// plan's help command on stdin and must print the help, with nothing on
// stderr (logs never reach the terminal); the test command is not run (this
// test runs inside it) but must be the one .ci/run runs; every other block
// must exit 0. Databases the blocks create are dropped before and after.
func TestREADME(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed: the README test clones the repository with git")
	}
	src, err := git("", "rev-parse", "--show-toplevel")
	if err != nil {
		t.Skipf("not in a git checkout, nothing to clone: %v", err)
	}
	head, err := git(src, "rev-parse", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := git(src, "status", "--porcelain"); status != "" {
		t.Logf("the checkout has uncommitted changes; the clone (and so this test) has the committed files of %s only:\n%s", head[:12], status)
	}

	// One README test at a time on this machine: the snippets use fixed
	// names (port 8080, the demo database).
	unlock := lockMachine(t)
	defer unlock()
	dir := filepath.Join(os.TempDir(), "regbot-readmetest", "repo") // a fixed path: the build cache stays warm
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := git("", "clone", "--quiet", "--no-checkout", src, dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if _, err := git(dir, "checkout", "--quiet", "--detach", head); err != nil {
		t.Fatal(err)
	}

	t.Run("links", func(t *testing.T) { checkLinks(t, dir) })

	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := shBlocks(string(readme))
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```sh block")
	}
	if dbs := createdDatabases(blocks); len(dbs) > 0 {
		dropDatabases(t, dbs)
		t.Cleanup(func() { dropDatabases(t, dbs) })
	}
	env := snippetEnv()
	kinds := map[string]int{}
	for _, b := range blocks {
		kind := b.kind()
		kinds[kind]++
		t.Run(fmt.Sprintf("line%d_%s", b.line, kind), func(t *testing.T) {
			t.Logf("README.md:%d:\n%s", b.line, b.code)
			switch kind {
			case "test":
				checkTestCommand(t, dir, b)
			case "ci":
				checkCI(t, dir)
			case "serve":
				runServe(t, dir, env, b)
			case "chat":
				runChat(t, dir, env, b)
			default:
				runToEnd(t, dir, env, b)
			}
		})
	}
	// The README's promises: a chat on a fresh machine, a service, the tests.
	for _, k := range []string{"chat", "serve", "test"} {
		if kinds[k] == 0 {
			t.Errorf("README.md has no %s block", k)
		}
	}
}

// block is one ```sh block of the README.
type block struct {
	line int // of its first line of code
	code string
}

// kind says how the block is run.
func (b block) kind() string {
	switch {
	case strings.Contains(b.code, "go test "):
		return "test"
	case strings.TrimSpace(b.code) == ".ci/run":
		return "ci"
	case strings.Contains(b.code, "regbot serve"):
		return "serve"
	case strings.Contains(b.code, "regbot chat"):
		return "chat"
	}
	return "run"
}

// shBlocks returns the ```sh blocks of a Markdown text.
func shBlocks(md string) []block {
	var out []block
	var cur *block
	var code []string
	for i, line := range strings.Split(md, "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```sh":
			cur = &block{line: i + 2}
			code = nil
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.code = strings.Join(code, "\n") + "\n"
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			code = append(code, line)
		}
	}
	return out
}

// snippetEnv is the test's environment without regbot's own variables, so
// that a snippet gets only what it sets itself, as on a fresh machine.
func snippetEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGBOT_") {
			env = append(env, kv)
		}
	}
	return env
}

// start runs code with bash -e in dir, in a process group of its own.
func start(t *testing.T, dir string, env []string, code string, stdin io.Reader) (*exec.Cmd, *syncBuffer, *syncBuffer, <-chan error) {
	t.Helper()
	cmd := exec.Command("bash", "-e", "-c", code)
	cmd.Dir, cmd.Env, cmd.Stdin = dir, env, stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	return cmd, stdout, stderr, done
}

// wait waits for done up to d, killing the process group after it.
func wait(t *testing.T, cmd *exec.Cmd, done <-chan error, d time.Duration, what string) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("%s: still running after %v, killed", what, d)
		return nil
	}
}

func runToEnd(t *testing.T, dir string, env []string, b block) {
	cmd, stdout, stderr, done := start(t, dir, env, b.code, nil)
	if err := wait(t, cmd, done, runTimeout, "block"); err != nil {
		t.Fatalf("block failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
}

// runChat types the plan's help command into the terminal chat and ends
// the input: the chat must print the help, exit 0 and write nothing on
// stderr but the go tool's own notes.
func runChat(t *testing.T, dir string, env []string, b block) {
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	words, help := plan.Commands["help"], plan.Texts["help"]
	if len(words) == 0 || help == "" {
		t.Fatal("the default plan has no help command or text")
	}
	cmd, stdout, stderr, done := start(t, dir, env, b.code, strings.NewReader(words[0]+"\n"))
	if err := wait(t, cmd, done, runTimeout, "chat"); err != nil {
		t.Fatalf("chat failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	firstLine, _, _ := strings.Cut(help, "\n")
	if !strings.Contains(stdout.String(), firstLine) {
		t.Errorf("the chat did not answer %q with the help (%q):\n%s", words[0], firstLine, stdout)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if line != "" && !strings.HasPrefix(line, "go: ") {
			t.Errorf("the chat wrote to stderr (logs must not reach the terminal): %q", line)
		}
	}
}

// runServe starts a serving block, waits for "regbot serving", probes it
// and stops it with Ctrl-C.
func runServe(t *testing.T, dir string, env []string, b block) {
	cmd, stdout, stderr, done := start(t, dir, env, b.code, nil)
	addr := ""
	deadline := time.Now().Add(serveTimeout)
	for addr == "" {
		select {
		case err := <-done:
			t.Fatalf("the block ended before serving (%v)\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("not serving after %v\nstderr:\n%s", serveTimeout, stderr)
		}
		addr = servingAddr(stderr.String())
	}
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string, string) {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Errorf("GET %s: %v", path, err)
			return 0, "", ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _, body := get(path); code != http.StatusOK || !strings.HasPrefix(body, "ok") {
			t.Errorf("GET %s = %d %q, want 200 ok…", path, code, body)
		} else {
			t.Logf("GET %s: %s", path, strings.TrimSpace(body))
		}
	}
	if code, ctype, _ := get("/chat"); code != http.StatusOK || !strings.HasPrefix(ctype, "text/html") {
		t.Errorf("GET /chat = %d %s, want the web chat page", code, ctype)
	}
	// Stop it as a service manager does: SIGTERM to regbot itself (go run
	// then exits with its status). regbot finishes its requests and exits 0.
	pid := findProcess(cmd.Process.Pid, "regbot")
	if pid == 0 {
		t.Fatalf("no regbot process in the block's process group")
	}
	syscall.Kill(pid, syscall.SIGTERM)
	if err := wait(t, cmd, done, stopTimeout, "serve after SIGTERM"); err != nil {
		t.Errorf("serve did not stop cleanly on SIGTERM: %v\nstderr:\n%s", err, stderr)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("serve logged an error: %s", line)
		}
	}
}

// findProcess returns the id of the process named name in process group
// pgid, 0 if there is none.
func findProcess(pgid int, name string) int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …
		open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(string(data[end+1:]))
		var pid, pgrp int
		fmt.Sscan(string(data[:open]), &pid)
		if len(fields) >= 3 {
			fmt.Sscan(fields[2], &pgrp)
		}
		if pgrp == pgid && string(data[open+1:end]) == name {
			return pid
		}
	}
	return 0
}

// servingAddr finds the address in serve's "regbot serving" log line.
func servingAddr(log string) string {
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var l struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "regbot serving" && l.Addr != "" {
			return l.Addr
		}
	}
	return ""
}

// checkTestCommand: the README's test command is the one CI runs (this
// test runs inside it, so it is not run here).
func checkTestCommand(t *testing.T, dir string, b block) {
	ci, err := os.ReadFile(filepath.Join(dir, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(ci), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, l := range strings.Split(strings.TrimSpace(b.code), "\n") {
		if !lines[strings.TrimSpace(l)] {
			t.Errorf("README test command %q is not what .ci/run runs", l)
		}
	}
}

// checkCI: .ci/run is there and executable in a fresh clone.
func checkCI(t *testing.T, dir string) {
	fi, err := os.Stat(filepath.Join(dir, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&0o111 == 0 {
		t.Errorf(".ci/run is not executable in a clone (mode %v): git update-index --chmod=+x .ci/run", fi.Mode())
	}
}

// createdDatabases are the databases the blocks create ("create database
// NAME").
func createdDatabases(blocks []block) []string {
	re := regexp.MustCompile(`(?i)create database (\w+)`)
	var names []string
	for _, b := range blocks {
		for _, m := range re.FindAllStringSubmatch(b.code, -1) {
			names = append(names, m[1])
		}
	}
	return names
}

// dropDatabases drops the named databases on the tests' PostgreSQL.
func dropDatabases(t *testing.T, names []string) {
	t.Helper()
	// DROP DATABASE waits for a checkpoint, which took over 30 s once with
	// the whole race suite writing on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, storetest.DatabaseURL)
	if err != nil {
		t.Fatalf("PostgreSQL is required: the README creates a database there: %v", err)
	}
	defer conn.Close(ctx)
	for _, n := range names {
		if _, err := conn.Exec(ctx, "drop database if exists "+pgx.Identifier{n}.Sanitize()+" with (force)"); err != nil {
			t.Errorf("drop database %s: %v", n, err)
		}
	}
}

// checkLinks checks README.md and docs/*.md: every relative Markdown link
// and every path they name under one of the repository's top-level folders
// exists in the clone, and nothing points outside it.
func checkLinks(t *testing.T, dir string) {
	docs, _ := filepath.Glob(filepath.Join(dir, "docs", "*.md"))
	files := append([]string{filepath.Join(dir, "README.md")}, docs...)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var tops []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != ".git" {
			tops = append(tops, regexp.QuoteMeta(e.Name()))
		}
	}
	pathRe := regexp.MustCompile(`(?:^|[^\w./-])((?:\./)?(?:` + strings.Join(tops, "|") + `)/[\w./*-]*)`)
	goIdent := regexp.MustCompile(`\.[A-Z]\w*$`) // store/storetest.RunOutbox names a Go identifier
	linkRe := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(dir, f)
		text := string(data)
		for _, bad := range []string{"../shared", "/work/"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s names %s, which a clone does not have", name, bad)
			}
		}
		for _, m := range linkRe.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			p := filepath.Join(filepath.Dir(f), target)
			if rel, err := filepath.Rel(dir, p); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links %s, outside the repository", name, m[1])
			} else if !exists(p) {
				t.Errorf("%s links %s, which does not exist", name, m[1])
			}
			checked++
		}
		for _, m := range pathRe.FindAllStringSubmatch(text, -1) {
			p := goIdent.ReplaceAllString(strings.TrimRight(m[1], ".,"), "")
			if matches, _ := filepath.Glob(filepath.Join(dir, p)); len(matches) == 0 {
				t.Errorf("%s names %s, which does not exist", name, p)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Error("no link or path found to check")
	}
	t.Logf("%d links and paths checked in %d files", checked, len(files))
}

// lockMachine holds an exclusive lock on a file in the temporary directory
// until the returned function is called.
func lockMachine(t *testing.T) func() {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "regbot-readmetest.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatal(err)
	}
	return func() { f.Close() }
}

// git runs git in dir ("" for the current directory) and returns its
// trimmed output.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
