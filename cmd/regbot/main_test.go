package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCommandLine: the answers to the command line itself, before any
// command runs: usage errors exit 2 and say what was wrong on stderr.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring; "" means stdout must be empty
		stderr string // substring; "" means stderr must be empty
	}{
		{name: "bare regbot is a usage error", args: nil, code: 2, stderr: "usage: regbot <command>"},
		{name: "unknown command is named", args: []string{"bogus"}, code: 2, stderr: `regbot: unknown command "bogus"`},
		{name: "unknown two-word command", args: []string{"plan", "frobnicate"}, code: 2, stderr: `unknown command "plan frobnicate"`},
		{name: "help goes to stdout", args: []string{"help"}, code: 0, stdout: "commands:"},
		{name: "--help", args: []string{"--help"}, code: 0, stdout: "serve"},
		{name: "--version", args: []string{"--version"}, code: 0, stdout: "regbot "},
		{name: "version", args: []string{"version"}, code: 0, stdout: "go1."},
		{name: "a command's usage error exits 2", args: []string{"plan", "check"}, code: 2, stderr: "regbot plan check: usage: regbot plan check FILE"},
		{name: "an unknown flag exits 2", args: []string{"chat", "--bogus"}, code: 2, stderr: "regbot chat: usage: flag provided but not defined: -bogus"},
		{name: "a bad flag value exits 2", args: []string{"serve", "--config"}, code: 2, stderr: "flag needs an argument"},
		{name: "a command's -h is not an error", args: []string{"chat", "-h"}, code: 0, stderr: "-json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, strings.NewReader(""), &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.code, stderr.String())
			}
			check := func(name, got, want string) {
				if want == "" && got != "" {
					t.Errorf("%s = %q, want nothing", name, got)
				}
				if !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", name, got, want)
				}
			}
			check("stdout", stdout.String(), tt.stdout)
			check("stderr", stderr.String(), tt.stderr)
		})
	}
}
