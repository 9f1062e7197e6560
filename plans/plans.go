// Package plans holds the certification plan files (YAML) compiled into the
// binary, so that regbot runs with the plan of the domain document when no
// plan file is configured.
package plans

import (
	"embed"
	"fmt"
	"io/fs"

	"regbot/dialogs"
)

// DefaultFile is the name of the embedded plan used when none is configured:
// 互联网营销师 四级/中级工.
const DefaultFile = "internet-marketing-l4.yaml"

//go:embed *.yaml
var files embed.FS

// FS returns the embedded plan files.
func FS() fs.FS { return files }

// Default parses the embedded default plan. It checks the plan's structure;
// its rules are compiled by dialogs.NewEngine.
func Default() (*dialogs.Plan, error) {
	p, err := dialogs.LoadPlanFS(files, DefaultFile)
	if err != nil {
		return nil, fmt.Errorf("default plan: %w", err)
	}
	return p, nil
}
