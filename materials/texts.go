package materials

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Texts is the catalogue of sentences this package says to candidates: the
// plan's texts (dialogs.Plan.Texts), read by key. Keys start with check_
// (the Inspector's problems and reminders) or fix_ (the Fixer's answers);
// a text names its values as {placeholders}. TextKeys lists every key and
// the placeholders each may use; CheckTexts is what `regbot plan check`
// runs on them.
type Texts map[string]string

// TextKeys are the keys of Texts this package reads, each with the
// placeholders its text may use.
var TextKeys = map[string][]string{
	// The Inspector.
	"check_busy":            nil,
	"check_handwritten":     nil,
	"check_empty":           {"formats"},
	"check_too_many_pixels": {"width", "height", "max_wan"},
	"check_truncated":       nil,
	"check_format":          {"formats", "got", "save_as"},
	"check_ratio":           {"width", "height", "orientation", "ratio", "example"},
	"check_ratio_example":   {"width", "height"},
	"check_ratio_portrait":  nil,
	"check_ratio_landscape": nil,
	"check_exif_rotation":   nil,
	"check_damaged":         nil,
	"check_background":      {"share"},
	"check_background_busy": {"share"},
	"check_heic":            nil,
	"check_pdf":             nil,
	"check_other_format":    {"format", "formats"},
	"check_incomplete":      nil,
	"check_not_image":       {"formats"},
	"check_bytes_window":    {"size", "min", "max", "how"},
	"check_bytes_raise":     nil,
	"check_bytes_lower":     nil,
	"check_bytes_too_big":   {"size", "max"},
	"check_bytes_too_small": {"size", "min"},
	"check_resolution":      {"width", "height", "min_width", "min_height"},
	"check_resolution_any":  {"width", "height", "long", "short"},
	"check_expired":         {"date"},
	"check_blank":           {"material"},
	"check_formats":         {"list"},
	"check_formats_or":      nil,
	"check_size_bytes":      {"n"},
	// The material package: the name of the answers summary in it, and
	// what its download link and endpoint say (admin.Packages).
	"package_summary_file": nil,
	"package_zip_name":     nil,
	"package_link_label":   nil,
	"package_link_invalid": nil,
	"package_not_found":    nil,
	"package_rate_limited": nil,
	// The Fixer: why a photo cannot be fixed, and what to do instead.
	"fix_unreadable":      nil,
	"fix_too_small":       {"min_width", "min_height"},
	"fix_no_person":       nil,
	"fix_head_cut":        nil,
	"fix_busy_background": nil,
	"fix_too_plain":       {"min"},
}

var placeholder = regexp.MustCompile(`\{([^{}]*)\}`)

// CheckTexts reports every key of TextKeys that texts lacks (or leaves
// blank) and every placeholder a text uses that its key does not have,
// naming the key.
func CheckTexts(texts map[string]string) error {
	keys := make([]string, 0, len(TextKeys))
	for k := range TextKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		v, ok := texts[k]
		if !ok || strings.TrimSpace(v) == "" && !blankAllowed(k) {
			errs = append(errs, fmt.Errorf("texts.%s is missing", k))
			continue
		}
		for _, m := range placeholder.FindAllStringSubmatch(v, -1) {
			if !slices.Contains(TextKeys[k], m[1]) {
				want := "none"
				if len(TextKeys[k]) > 0 {
					want = "{" + strings.Join(TextKeys[k], "}, {") + "}"
				}
				errs = append(errs, fmt.Errorf("texts.%s: unknown placeholder {%s} (it may use %s)", k, m[1], want))
			}
		}
	}
	return errors.Join(errs...)
}

// blankAllowed are the keys whose text may be empty: a word a language
// does without.
func blankAllowed(key string) bool {
	return key == "check_ratio_portrait" || key == "check_ratio_landscape"
}

// say returns the text of key with each {name} replaced by its value;
// kv are name, value pairs.
func (t Texts) say(key string, kv ...string) string {
	s := t[key]
	if len(kv) == 0 || !strings.Contains(s, "{") {
		return s
	}
	return strings.NewReplacer(braced(kv)...).Replace(s)
}

func braced(kv []string) []string {
	out := make([]string, len(kv))
	for i, v := range kv {
		if i%2 == 0 {
			v = "{" + v + "}"
		}
		out[i] = v
	}
	return out
}
