package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"regbot/admin"
	"regbot/store"
	"regbot/store/postgres"
)

// The staff console's accounts from the terminal (the first admin has no
// other way in): `regbot user add|passwd|disable|enable|unlock|list`.
// Passwords are read without echo from a terminal, or as one line from
// stdin (scripts: `echo "$PW" | regbot user add …`), never from a flag.

// errEmbeddedAccounts: without a database the accounts live in the memory
// of the running `regbot serve`, out of a terminal command's reach.
var errEmbeddedAccounts = errors.New("database.url is empty: on the embedded store the console's accounts live in the memory of the running regbot serve " +
	"(sign in to /admin/ as admin with admin.console.embedded_admin_password or REGBOT_CONSOLE_ADMIN_PASSWORD and manage accounts on the accounts page, /admin/users; " +
	"they last until serve stops); regbot user manages the accounts in a database")

// openAccounts connects to the record for an account command; on the
// embedded store it returns the config and errEmbeddedAccounts.
func openAccounts(ctx context.Context, name string, args []string, stderr io.Writer, flags func(*flag.FlagSet)) (*postgres.Store, func(), *flag.FlagSet, error) {
	st, done, fs, _, err := openAccountsConfig(ctx, name, args, stderr, flags)
	return st, done, fs, err
}

func openAccountsConfig(ctx context.Context, name string, args []string, stderr io.Writer, flags func(*flag.FlagSet)) (*postgres.Store, func(), *flag.FlagSet, Config, error) {
	fs := flag.NewFlagSet("user "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (see config.example.yaml)")
	if flags != nil {
		flags(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, nil, Config{}, err
	}
	if *path == "" {
		return nil, nil, nil, Config{}, fmt.Errorf("%w: regbot user %s --config FILE …", errUsage, name)
	}
	cfg, err := loadConfig(*path, os.Getenv)
	if err != nil {
		return nil, nil, nil, Config{}, err
	}
	if cfg.Database.URL == "" {
		return nil, nil, fs, *cfg, errEmbeddedAccounts
	}
	pool, err := postgres.NewPool(ctx, cfg.Database.URL, 2)
	if err != nil {
		return nil, nil, nil, Config{}, err
	}
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, nil, nil, Config{}, oneLine(fmt.Errorf("database: %w", err))
	}
	return postgres.New(pool), pool.Close, fs, *cfg, nil
}

// readPassword reads a new password: twice without echo from a terminal,
// else one line from stdin.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(stderr, "new password (at least %d characters): ", admin.MinPasswordRunes)
		pw, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(pw) != string(again) {
			return "", errors.New("the two passwords differ")
		}
		return string(pw), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// runUserAdd is `regbot user add --config FILE --login L --name N
// [--role staff|admin]`.
func runUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var login, name, role *string
	st, done, fs, err := openAccounts(ctx, "add", args, stderr, func(fs *flag.FlagSet) {
		login = fs.String("login", "", "login (2–32 of a-z 0-9 . _ -)")
		name = fs.String("name", "", "the name colleagues know them by")
		role = fs.String("role", "staff", "staff (review and answer) or admin (also accounts, bulk statuses, broadcasts, audit log)")
	})
	if err != nil {
		return err
	}
	defer done()
	if *login == "" || *name == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: regbot user add --config FILE --login LOGIN --name NAME [--role staff|admin] (password on stdin)", errUsage)
	}
	pw, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	u, err := admin.NewStaffUser(*login, *name, store.Role(*role), pw)
	if err != nil {
		return err
	}
	u.PasswordChangedAt = time.Now()
	u, err = st.CreateStaffUser(ctx, u)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("login %q is taken", u.Login)
	} else if err != nil {
		return err
	}
	if err := st.AppendAudit(ctx, store.AuditEntry{Login: "cli", Action: "user.add", Target: fmt.Sprintf("user:%d", u.ID),
		Detail: u.Login + " (" + string(u.Role) + ")", Address: "terminal"}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s (%s, %s)\n", u.Login, u.DisplayName, u.Role)
	return nil
}

// userByLogin runs a one-account command: `regbot user NAME --config FILE LOGIN`.
func userByLogin(ctx context.Context, name string, args []string, stderr io.Writer) (*postgres.Store, func(), store.StaffUser, error) {
	st, done, fs, err := openAccounts(ctx, name, args, stderr, nil)
	if err != nil {
		return nil, nil, store.StaffUser{}, err
	}
	if fs.NArg() != 1 {
		done()
		return nil, nil, store.StaffUser{}, fmt.Errorf("%w: regbot user %s --config FILE LOGIN", errUsage, name)
	}
	u, err := st.StaffUserByLogin(ctx, strings.ToLower(fs.Arg(0)))
	if errors.Is(err, store.ErrNotFound) {
		done()
		return nil, nil, store.StaffUser{}, fmt.Errorf("no account %q", fs.Arg(0))
	} else if err != nil {
		done()
		return nil, nil, store.StaffUser{}, err
	}
	return st, done, u, nil
}

func cliAudit(ctx context.Context, st *postgres.Store, action string, u store.StaffUser) error {
	return st.AppendAudit(ctx, store.AuditEntry{Login: "cli", Action: action, Target: fmt.Sprintf("user:%d", u.ID), Detail: u.Login, Address: "terminal"})
}

// runUserPasswd is `regbot user passwd --config FILE LOGIN`: a new password
// (read as for add), which also unlocks the account and signs it out
// everywhere.
func runUserPasswd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	st, done, u, err := userByLogin(ctx, "passwd", args, stderr)
	if err != nil {
		return err
	}
	defer done()
	pw, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	if err := admin.CheckPasswordRules(pw); err != nil {
		return err
	}
	hash, err := admin.HashPassword(pw)
	if err != nil {
		return err
	}
	if err := st.SetStaffPassword(ctx, u.ID, hash, time.Now()); err != nil {
		return err
	}
	if err := cliAudit(ctx, st, "user.password", u); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "password of %s set; the account is unlocked and signed out everywhere\n", u.Login)
	return nil
}

// runUserDisable is `regbot user disable --config FILE LOGIN`.
func runUserDisable(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	return setDisabled(ctx, "disable", true, args, stdout, stderr)
}

// runUserEnable is `regbot user enable --config FILE LOGIN`.
func runUserEnable(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	return setDisabled(ctx, "enable", false, args, stdout, stderr)
}

func setDisabled(ctx context.Context, name string, disabled bool, args []string, stdout, stderr io.Writer) error {
	st, done, u, err := userByLogin(ctx, name, args, stderr)
	if err != nil {
		return err
	}
	defer done()
	if err := st.SetStaffDisabled(ctx, u.ID, disabled, time.Now()); err != nil {
		return err
	}
	if err := cliAudit(ctx, st, "user."+name, u); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %sd\n", u.Login, name)
	return nil
}

// runUserUnlock is `regbot user unlock --config FILE LOGIN`.
func runUserUnlock(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	st, done, u, err := userByLogin(ctx, "unlock", args, stderr)
	if err != nil {
		return err
	}
	defer done()
	if err := st.UnlockStaffUser(ctx, u.ID); err != nil {
		return err
	}
	if err := cliAudit(ctx, st, "user.unlock", u); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: unlocked\n", u.Login)
	return nil
}

// listEmbeddedAccounts lists the account the embedded store's console
// starts with: the admin of admin.console.embedded_admin_password.
func listEmbeddedAccounts(cfg Config, stdout io.Writer) error {
	if cfg.Admin.Console.Disabled || cfg.Admin.Console.EmbeddedAdminPassword == "" {
		return errors.New("database.url is empty and admin.console.embedded_admin_password (REGBOT_CONSOLE_ADMIN_PASSWORD) is not set: " +
			"on the embedded store the console is off, so there are no accounts")
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN\tNAME\tROLE\tSTATE\tLAST SIGN-IN")
	fmt.Fprintf(tw, "%s\t%s\t%s\tembedded\t-\n", embeddedAdminLogin, admin.EmbeddedAdminName(), store.RoleAdmin)
	tw.Flush()
	fmt.Fprintln(stdout, "embedded store: admin signs in with admin.console.embedded_admin_password; accounts added on the accounts page (/admin/users) last until serve stops")
	return nil
}

// runUserList is `regbot user list --config FILE`.
func runUserList(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	st, done, fs, cfg, err := openAccountsConfig(ctx, "list", args, stderr, nil)
	if errors.Is(err, errEmbeddedAccounts) && fs.NArg() == 0 {
		return listEmbeddedAccounts(cfg, stdout)
	}
	if err != nil {
		return err
	}
	defer done()
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: regbot user list --config FILE", errUsage)
	}
	users, err := st.StaffUsers(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN\tNAME\tROLE\tSTATE\tLAST SIGN-IN")
	for _, u := range users {
		state := "active"
		switch {
		case !u.DisabledAt.IsZero():
			state = "disabled"
		case !u.LockedAt.IsZero():
			state = "locked"
		case u.PasswordHash == "":
			state = "no password"
		}
		last := "never"
		if !u.LastLoginAt.IsZero() {
			last = u.LastLoginAt.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Login, u.DisplayName, u.Role, state, last)
	}
	return tw.Flush()
}
