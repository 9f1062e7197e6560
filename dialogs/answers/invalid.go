package answers

import (
	"slices"
	"strings"
)

// Invalid is a parse failure the candidate can fix. The parsers know no
// sentences: Code names the problem and Args carry the values a message
// may show; the dialog says the plan's text "answers.<Code>" with Args
// filled into its {placeholders}.
type Invalid struct {
	// Code is one of the Code* constants.
	Code string
	// Args are the values of the code's placeholders (see Codes), by name.
	Args map[string]string
}

// Error describes the failure for logs and tests (never for candidates).
func (e *Invalid) Error() string {
	if len(e.Args) == 0 {
		return "invalid answer: " + e.Code
	}
	keys := make([]string, 0, len(e.Args))
	for k := range e.Args {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("invalid answer: " + e.Code)
	for _, k := range keys {
		b.WriteString(" " + k + "=" + e.Args[k])
	}
	return b.String()
}

// invalid builds an *Invalid from a code and name, value pairs.
func invalid(code string, kv ...string) error {
	inv := &Invalid{Code: code}
	if len(kv) > 0 {
		inv.Args = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			inv.Args[kv[i]] = kv[i+1]
		}
	}
	return inv
}

// The codes of Invalid, one per thing a candidate can get wrong.
const (
	CodeBool           = "bool"             // not a yes or a no
	CodeNumberFormat   = "number_format"    // not a number
	CodeNumberRange    = "number_range"     // a number outside {min}..{max}
	CodeMonthFormat    = "month_format"     // not a year and month
	CodeMonthYear4     = "month_year4"      // a two-digit year
	CodeMonthNeedMonth = "month_need_month" // a year without its month
	CodeMonthRange     = "month_range"      // a month outside 1..12
	CodeMonthTooEarly  = "month_too_early"  // a year before {year}
	CodeMonthNoOngoing = "month_no_ongoing" // 至今 where a month is needed
	CodeMonthFuture    = "month_future"     // after the current month {year}-{month}
	CodeDateFormat     = "date_format"      // not a date
	CodeDateYear4      = "date_year4"       // a two-digit year
	CodeDateNotExist   = "date_not_exist"   // no such calendar day
	CodeIDChars        = "id_chars"         // characters other than digits and a final X
	CodeIDLength       = "id_length"        // not 18 characters ({count} typed)
	CodeIDOld          = "id_old"           // a 15-digit first-generation number
	CodeIDRegion       = "id_region"        // unknown province code
	CodeIDBirth        = "id_birth"         // impossible birth date
	CodeIDAge          = "id_age"           // age outside {min}..{max}
	CodeIDChecksum     = "id_checksum"      // wrong check character
	CodeMobileFormat   = "mobile_format"    // not a phone number
	CodeMobileLength   = "mobile_length"    // not 11 digits
	CodeMobilePrefix   = "mobile_prefix"    // not starting with 13..19
	CodeNameEmpty      = "name_empty"       // nothing typed
	CodeNameChars      = "name_chars"       // not Han characters with optional ·
	CodeNameLength     = "name_length"      // fewer than {min} or more than {max} characters
)

// Codes lists every code with the placeholders its message may use, so a
// plan can be checked for a text per code.
var Codes = map[string][]string{
	CodeBool: nil, CodeNumberFormat: nil, CodeNumberRange: {"min", "max"},
	CodeMonthFormat: nil, CodeMonthYear4: nil, CodeMonthNeedMonth: nil, CodeMonthRange: nil,
	CodeMonthTooEarly: {"year"}, CodeMonthNoOngoing: nil, CodeMonthFuture: {"year", "month"},
	CodeDateFormat: nil, CodeDateYear4: nil, CodeDateNotExist: nil,
	CodeIDChars: nil, CodeIDLength: {"count"}, CodeIDOld: nil, CodeIDRegion: nil, CodeIDBirth: nil,
	CodeIDAge: {"min", "max"}, CodeIDChecksum: nil,
	CodeMobileFormat: nil, CodeMobileLength: nil, CodeMobilePrefix: nil,
	CodeNameEmpty: nil, CodeNameChars: nil, CodeNameLength: {"min", "max"},
}
