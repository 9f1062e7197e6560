package answers

import (
	"testing"
)

// makeID appends the GB 11643-1999 check character to first17, computed
// from the standard's formula (weights 2^(17-i) mod 11, check value
// (12 - sum mod 11) mod 11, 10 written X) independently of idCheckDigit.
func makeID(t testing.TB, first17 string) string {
	t.Helper()
	if len(first17) != 17 {
		t.Fatalf("makeID: %q is not 17 characters", first17)
	}
	sum := 0
	for i := 0; i < 17; i++ {
		w := 1
		for range 17 - i {
			w = w * 2 % 11
		}
		sum += int(first17[i]-'0') * w
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return first17 + "X"
	}
	return first17 + string(rune('0'+c))
}

// wrongCheck replaces id's check character with another valid-looking one.
func wrongCheck(id string) string {
	if id[17] == '0' {
		return id[:17] + "1"
	}
	return id[:17] + "0"
}

func TestIDNumber(t *testing.T) {
	t.Parallel()
	const famous = "11010519491231002X" // the standard's own sample
	if got := makeID(t, famous[:17]); got != famous {
		t.Fatalf("makeID(%q) = %q: helper disagrees with the standard's sample", famous[:17], got)
	}
	adult := makeID(t, "44030419900101123") // Shenzhen, 1990-01-01
	fourteen := makeID(t, "33010620110615002")
	hundred := makeID(t, "31010419250615003")
	tests := []struct {
		name string
		in   string
		want string
		msg  string // non-empty: want *Invalid containing it
	}{
		{name: "famous sample", in: famous, want: famous},
		{name: "lower-case x", in: "11010519491231002x", want: famous},
		{name: "full-width", in: "１１０１０５１９４９１２３１００２Ｘ", want: famous},
		{name: "spaces in groups", in: " 110105 19491231 002X ", want: famous},
		{name: "dashes", in: "110105-19491231-002X", want: famous},
		{name: "digit check", in: adult, want: adult},
		{name: "age exactly 14 today", in: fourteen, want: fourteen},
		{name: "age exactly 100 today", in: hundred, want: hundred},
		{name: "wrong checksum", in: wrongCheck(famous), msg: "id_checksum"},
		{name: "wrong checksum digit", in: wrongCheck(adult), msg: "id_checksum"},
		{name: "swapped digits", in: "11010519491321002X", msg: "id_birth"},
		{name: "feb 30 birth date", in: makeID(t, "11010519900230123"), msg: "id_birth"},
		{name: "month 13 birth date", in: makeID(t, "11010519901301123"), msg: "id_birth"},
		{name: "birth in the future", in: makeID(t, "11010520300101123"), msg: "id_birth"},
		{name: "birth tomorrow", in: makeID(t, "11010520250616123"), msg: "id_birth"},
		{name: "age 13, birthday tomorrow", in: makeID(t, "33010620110616002"), msg: "id_age max=100 min=14"},
		{name: "age 101", in: makeID(t, "31010419240615003"), msg: "id_age max=100 min=14"},
		{name: "born 1899", in: makeID(t, "11010518991231002"), msg: "id_age max=100 min=14"},
		{name: "born 1799", in: makeID(t, "11010517991231002"), msg: "id_birth"},
		{name: "unknown province", in: makeID(t, "99010519900101123"), msg: "id_region"},
		{name: "17 digits", in: famous[:17], msg: "id_length count=17"},
		{name: "19 digits", in: famous[:17] + "12", msg: "id_length count=19"},
		{name: "old 15 digits", in: "110105491231002", msg: "id_old"},
		{name: "empty", in: "", msg: "id_length count=0"},
		{name: "letter inside", in: "1101051949123100AX", msg: "id_chars"},
		{name: "X not last", in: "X10105194912310021", msg: "id_chars"},
		{name: "chinese characters", in: "身份证11010519491231002X", msg: "id_chars"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := IDNumber(tt.in, testNow)
			if tt.msg != "" {
				requireInvalid(t, err, tt.msg)
				if hasDigitRun(err.Error(), 6) {
					t.Fatalf("message %q repeats the ID number", err.Error())
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("IDNumber(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// hasDigitRun reports whether msg contains n ASCII digits in a row.
func hasDigitRun(msg string, n int) bool {
	run := 0
	for i := 0; i < len(msg); i++ {
		if msg[i] >= '0' && msg[i] <= '9' {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func TestIDCheckDigitAgreesWithStandard(t *testing.T) {
	t.Parallel()
	// Exhaust every check value: vary the sequence number until all 11
	// check characters have been produced, comparing both computations.
	seen := map[byte]bool{}
	for seq := 0; seq < 1000 && len(seen) < 11; seq++ {
		first17 := "4403041990010" + string(rune('0'+seq/100)) + string(rune('0'+seq/10%10)) + string(rune('0'+seq%10)) + "1"
		want := makeID(t, first17)[17]
		if got := idCheckDigit(first17); got != want {
			t.Fatalf("idCheckDigit(%q) = %c, want %c", first17, got, want)
		}
		seen[want] = true
	}
	if len(seen) != 11 {
		t.Fatalf("only %d of 11 check characters exercised", len(seen))
	}
}
