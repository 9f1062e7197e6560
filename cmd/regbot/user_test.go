package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"regbot/store/storetest"
)

// TestUserCommands: add (password on stdin), a taken login, a weak
// password, list, passwd, disable, enable, unlock — on a real database.
func TestUserCommands(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, fmt.Sprintf("privacy:\n  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=\ndatabase:\n  url: %s\nblob:\n  insecure_no_encryption: true\n  dir: %s\n",
		storetest.PostgresURL(t), t.TempDir()))
	user := func(stdin string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(regbotBin, append([]string{"user"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := user("a long enough password\n", "add", "--config", cfg, "--login", "Admin", "--name", "王老师", "--role", "admin"); err != nil || !strings.Contains(out, "added admin (王老师, admin)") {
		t.Fatalf("add: %v %s", err, out)
	}
	if out, err := user("another long password\n", "add", "--config", cfg, "--login", "admin", "--name", "x"); err == nil || !strings.Contains(out, "taken") {
		t.Fatalf("add of a taken login: %v %s", err, out)
	}
	if out, err := user("short\n", "add", "--config", cfg, "--login", "li", "--name", "李"); err == nil || !strings.Contains(out, "at least") {
		t.Fatalf("add with a weak password: %v %s", err, out)
	}
	if out, err := user("", "add", "--config", cfg, "--login", "li"); err == nil || !strings.Contains(out, "usage") {
		t.Fatalf("add without a name: %v %s", err, out)
	}
	if out, err := user("a fine staff password\n", "add", "--config", cfg, "--login", "li", "--name", "李"); err != nil {
		t.Fatalf("add staff: %v %s", err, out)
	}
	if out, err := user("", "disable", "--config", cfg, "li"); err != nil || !strings.Contains(out, "li: disabled") {
		t.Fatalf("disable: %v %s", err, out)
	}
	out, err := user("", "list", "--config", cfg)
	if err != nil || !strings.Contains(out, "admin") || !regexpLine(out, `li\s+李\s+staff\s+disabled\s+never`) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"enable", "--config", cfg, "li"}, {"unlock", "--config", cfg, "li"}} {
		if out, err := user("", args...); err != nil {
			t.Fatalf("%s: %v %s", args[0], err, out)
		}
	}
	if out, err := user("a brand new password\n", "passwd", "--config", cfg, "li"); err != nil || !strings.Contains(out, "signed out everywhere") {
		t.Fatalf("passwd: %v %s", err, out)
	}
	if out, err := user("", "passwd", "--config", cfg, "nobody"); err == nil || !strings.Contains(out, `no account "nobody"`) {
		t.Fatalf("passwd of an unknown login: %v %s", err, out)
	}
	if out, _ := user("", "list", "--config", cfg); !regexpLine(out, `li\s+李\s+staff\s+active`) {
		t.Fatalf("list after enable: %s", out)
	}
}

func regexpLine(out, pattern string) bool {
	for _, l := range strings.Split(out, "\n") {
		if ok, _ := regexp.MatchString(pattern, l); ok {
			return true
		}
	}
	return false
}

// TestUserCommandsOnTheEmbeddedStore: without a database, list shows the
// embedded console's admin (or says the console is off) and the commands
// that would change an account say where accounts live instead.
func TestUserCommandsOnTheEmbeddedStore(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, fmt.Sprintf("blob:\n  insecure_no_encryption: true\n  dir: %s\n", t.TempDir()))
	user := func(env, stdin string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(regbotBin, append([]string{"user"}, args...)...)
		cmd.Env = append(os.Environ(), "REGBOT_CONSOLE_ADMIN_PASSWORD="+env)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := user("", "", "list", "--config", cfg); err == nil || !strings.Contains(out, "the console is off") {
		t.Fatalf("list without the embedded admin password: %v %s", err, out)
	}
	out, err := user("embedded-admin-pw", "", "list", "--config", cfg)
	if err != nil || !regexpLine(out, `^admin\s+管理员\s+admin\s+embedded`) {
		t.Fatalf("list on the embedded store: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"add", "--config", cfg, "--login", "li", "--name", "李"}, {"passwd", "--config", cfg, "admin"}, {"disable", "--config", cfg, "admin"}} {
		out, err := user("embedded-admin-pw", "a long enough password\n", args...)
		if err == nil || !strings.Contains(out, "accounts page, /admin/users") || strings.Contains(out, "embedded-admin-pw") {
			t.Errorf("%s on the embedded store: %v %s", args[0], err, out)
		}
	}
}
