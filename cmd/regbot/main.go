// Command regbot is the registration assistant: `regbot serve` runs the
// channels and the admin API, `regbot chat` talks to the dialog engine in the
// terminal, and the other commands are operator tools. Run `regbot help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand. run gets the arguments after the command name.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// commands is the table of subcommands; each lives in its own file.
func commands() map[string]command {
	return map[string]command{
		"chat":             {"chat with the bot in the terminal (--json for scripts)", runChat},
		"plan check":       {"load and compile a plan file, report every problem", runPlanCheck},
		"wechat menu":      {"push the wechat: section's custom menu to the official account (--config FILE)", runWechatMenu},
		"serve":            {"run the channels' HTTP server (--config FILE)", runServe},
		"migrate":          {"apply the database migrations (--config FILE)", runMigrate},
		"export materials": {"write a candidate's material package zip (--config FILE --candidate ID)", runExportMaterials},
		"status import":    {"apply the official system's status export (--config FILE [--dry-run] FILE.csv)", runStatusImport},
		"user add":         {"add a staff console account (--config FILE --login L --name N [--role admin]; password on stdin)", runUserAdd},
		"user passwd":      {"set a console account's password, unlocking it (--config FILE LOGIN)", runUserPasswd},
		"user disable":     {"disable a console account and sign it out (--config FILE LOGIN)", runUserDisable},
		"user enable":      {"enable a disabled console account (--config FILE LOGIN)", runUserEnable},
		"user unlock":      {"unlock a console account locked by wrong passwords (--config FILE LOGIN)", runUserUnlock},
		"user list":        {"list the console accounts (--config FILE)", runUserList},
		"broadcast create": {"write a broadcast: --title, --filter or --segment, --text or --text-file, [--image] (--config FILE)", runBroadcastCreate},
		"broadcast send":   {"send a broadcast now or --at a time, --wait for it (--config FILE ID)", runBroadcastSend},
		"broadcast status": {"a broadcast's counts and rate, --watch for a progress bar (--config FILE ID)", runBroadcastStatus},
		"broadcast pause":  {"pause a broadcast (--config FILE ID)", runBroadcastPause},
		"broadcast resume": {"resume a paused broadcast (--config FILE ID)", runBroadcastResume},
		"broadcast cancel": {"cancel a broadcast (--config FILE ID)", runBroadcastCancel},
		"broadcast report": {"a broadcast's per-recipient CSV report (--config FILE [--out FILE] ID)", runBroadcastReport},
		"broadcast list":   {"the latest broadcasts (--config FILE)", runBroadcastList},
		"segment save":     {"save a broadcast filter by name (--config FILE NAME FILTER)", runSegmentSave},
		"segment list":     {"the saved broadcast filters (--config FILE)", runSegmentList},
	}
}

// errUsage marks a command-line mistake; its message is the whole answer.
var errUsage = errors.New("usage")

// parseFlags parses a command's flags: a mistake in them (an unknown flag,
// a bad value; the flag package has printed the command's flags) is a
// usage error, so it exits 2 like every other one. -h is flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return fmt.Errorf("%w: %v", errUsage, err)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 1 {
		switch args[0] {
		case "help", "-h", "-help", "--help":
			usage(stdout, cmds)
			return 0
		case "version", "-version", "--version":
			fmt.Fprintln(stdout, version())
			return 0
		}
	}
	name, rest := "", args
	for n := 2; n >= 1; n-- {
		if len(args) >= n {
			if _, ok := cmds[joinWords(args[:n])]; ok {
				name, rest = joinWords(args[:n]), args[n:]
				break
			}
		}
	}
	if name == "" {
		if len(args) > 0 {
			fmt.Fprintf(stderr, "regbot: unknown command %q\n\n", strings.Join(args, " "))
		}
		usage(stderr, cmds)
		return 2
	}
	if err := cmds[name].run(ctx, rest, stdin, stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "regbot %s: %v\n", name, err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func joinWords(w []string) string { return strings.Join(w, " ") }

// version describes the binary from its build information: the module
// version, and the VCS revision and time when built from a checkout.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "regbot (unknown version)"
	}
	v := "regbot " + info.Main.Version
	var rev, at string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" {
		v += " " + rev[:min(12, len(rev))]
		if modified {
			v += "+modified"
		}
	}
	if at != "" {
		v += " " + at
	}
	return v + " " + info.GoVersion
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: regbot <command> [flags]   (regbot --version prints the version)\n\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-18s %s\n", n, cmds[n].summary)
	}
}
