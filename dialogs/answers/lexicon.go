package answers

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// The parsers' vocabulary is data: lexicon.yaml, embedded, loaded and
// checked once when the program starts. Grammar (年, 月, 日, numerals)
// stays in the parsers.

//go:embed lexicon.yaml
var lexiconFile []byte

// lexicon is lexicon.yaml.
type lexicon struct {
	Bool struct {
		Yes       []string `yaml:"yes"`
		No        []string `yaml:"no"`
		Particles []string `yaml:"particles"`
		LeadsYes  []string `yaml:"leads_yes"`
		LeadsNo   []string `yaml:"leads_no"`
		Doubt     []string `yaml:"doubt"`
	} `yaml:"bool"`
	Date struct {
		Permanent       []string `yaml:"permanent"`
		Prefixes        []string `yaml:"prefixes"`
		RangeSeparators []string `yaml:"range_separators"`
	} `yaml:"date"`
	Month struct {
		Ongoing  []string `yaml:"ongoing"`
		Hedges   []string `yaml:"hedges"`
		Tails    []string `yaml:"tails"`
		Trailers []string `yaml:"trailers"`
	} `yaml:"month"`
	Name struct {
		Prefixes []string `yaml:"prefixes"`
	} `yaml:"name"`
	Number struct {
		Prefixes []string `yaml:"prefixes"`
		Units    []string `yaml:"units"`
	} `yaml:"number"`
	Matcher struct {
		PrefixMarkers []string `yaml:"prefix_markers"`
	} `yaml:"matcher"`
}

// words is the vocabulary, checked: the program does not start without it.
var words = func() *lexicon {
	lx, err := loadLexicon(lexiconFile)
	if err != nil {
		panic(fmt.Sprintf("answers: lexicon.yaml: %v", err))
	}
	return lx
}()

// loadLexicon reads and checks a lexicon.
func loadLexicon(data []byte) (*lexicon, error) {
	var lx lexicon
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&lx); err != nil {
		return nil, err
	}
	var errs []error
	check := func(where string, list []string, ordered bool) {
		if len(list) == 0 {
			errs = append(errs, fmt.Errorf("%s is missing", where))
		}
		for i, w := range list {
			if strings.TrimSpace(w) == "" {
				errs = append(errs, fmt.Errorf("%s: a blank word", where))
			}
			for _, earlier := range list[:i] {
				if earlier == w {
					errs = append(errs, fmt.Errorf("%s: %q twice", where, w))
				} else if ordered && strings.HasPrefix(w, earlier) {
					errs = append(errs, fmt.Errorf("%s: %q comes after %q, which it starts with, so it never matches", where, w, earlier))
				}
			}
		}
	}
	check("bool.yes", lx.Bool.Yes, false)
	check("bool.no", lx.Bool.No, false)
	check("bool.particles", lx.Bool.Particles, false)
	check("bool.leads_yes", lx.Bool.LeadsYes, true)
	check("bool.leads_no", lx.Bool.LeadsNo, true)
	check("bool.doubt", lx.Bool.Doubt, false)
	check("date.permanent", lx.Date.Permanent, false)
	check("date.prefixes", lx.Date.Prefixes, true)
	check("date.range_separators", lx.Date.RangeSeparators, false)
	check("month.ongoing", lx.Month.Ongoing, false)
	check("month.hedges", lx.Month.Hedges, true)
	check("month.tails", lx.Month.Tails, false)
	check("month.trailers", lx.Month.Trailers, false)
	check("name.prefixes", lx.Name.Prefixes, true)
	check("number.prefixes", lx.Number.Prefixes, true)
	check("number.units", lx.Number.Units, false)
	check("matcher.prefix_markers", lx.Matcher.PrefixMarkers, false)
	for _, w := range lx.Bool.Yes {
		if contains(lx.Bool.No, w) {
			errs = append(errs, fmt.Errorf("bool: %q is both yes and no", w))
		}
	}
	// A clause opens with leads of one meaning only: neither list's words
	// start another's.
	for _, y := range lx.Bool.LeadsYes {
		for _, n := range lx.Bool.LeadsNo {
			if strings.HasPrefix(y, n) || strings.HasPrefix(n, y) {
				errs = append(errs, fmt.Errorf("bool: lead %q and lead %q start each other", y, n))
			}
		}
	}
	for _, p := range lx.Bool.Particles {
		if len([]rune(p)) != 1 {
			errs = append(errs, fmt.Errorf("bool.particles: %q is not one character", p))
		}
	}
	if !contains(lx.Date.Permanent, Permanent) {
		errs = append(errs, fmt.Errorf("date.permanent lacks %q, the answer recorded", Permanent))
	}
	if !contains(lx.Month.Ongoing, Ongoing) {
		errs = append(errs, fmt.Errorf("month.ongoing lacks %q, the answer recorded", Ongoing))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &lx, nil
}

func contains(list []string, w string) bool {
	for _, x := range list {
		if x == w {
			return true
		}
	}
	return false
}

// set is a list as a look-up.
func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, w := range list {
		m[w] = true
	}
	return m
}
