package answers

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Age bounds of a candidate, in whole years at now.
const (
	minAge = 14
	maxAge = 100
)

// idProvinces are the province-level codes that begin a resident ID (GB/T
// 2260), plus 71/81/82/83 used by residence permits of Taiwan, Hong Kong
// and Macao residents.
var idProvinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true, "83": true,
}

// idWeights are the ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 of GB 11643.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckDigit returns the GB 11643-1999 check character ('0'–'9' or 'X')
// for the first 17 digits of a resident ID (first17 must be 17 digits).
func idCheckDigit(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return "10X98765432"[sum%11]
}

// IDNumber validates an 18-digit PRC resident ID number as typed (spaces,
// dashes and full-width digits allowed; a lower-case x is upper-cased) and
// returns it normalised. It checks, in this order, the characters, the
// length, the province code, the birth date (a real date, not after now,
// age 14–100 at now) and the GB 11643-1999 checksum, and the message says
// which one failed. The number itself never appears in a message.
func IDNumber(s string, now time.Time) (string, error) {
	n := strings.ToUpper(strings.ReplaceAll(compact(s), "-", ""))
	for i := 0; i < len(n); i++ {
		if c := n[i]; !(c >= '0' && c <= '9' || c == 'X') {
			return "", invalid(CodeIDChars)
		}
	}
	switch {
	case n == "":
		return "", invalid(CodeIDLength, "count", "0")
	case len(n) == 15 && isDigits(n):
		return "", invalid(CodeIDOld)
	case len(n) != 18:
		return "", invalid(CodeIDLength, "count", strconv.Itoa(utf8.RuneCountInString(n)))
	case !isDigits(n[:17]):
		return "", invalid(CodeIDChars) // X only as the last character
	case !idProvinces[n[:2]]:
		return "", invalid(CodeIDRegion)
	}
	birth, ok := idBirth(n[6:14])
	age := ageAt(birth, now)
	if !ok || age < 0 { // age < 0: born after today
		return "", invalid(CodeIDBirth)
	}
	if age < minAge || age > maxAge {
		return "", invalid(CodeIDAge, "min", strconv.Itoa(minAge), "max", strconv.Itoa(maxAge))
	}
	if idCheckDigit(n[:17]) != n[17] {
		return "", invalid(CodeIDChecksum)
	}
	return n, nil
}

// idBirth parses the YYYYMMDD birth date of an ID number.
func idBirth(s string) (time.Time, bool) {
	y := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	m := int(s[4]-'0')*10 + int(s[5]-'0')
	d := int(s[6]-'0')*10 + int(s[7]-'0')
	if y < 1800 || !validDate(y, m, d) {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), true
}

// ageAt is the age in whole years on now's calendar day (in now's location)
// of someone born on birth's calendar day; it is negative if birth is after
// that day.
func ageAt(birth, now time.Time) int {
	age := now.Year() - birth.Year()
	if now.Month() < birth.Month() || now.Month() == birth.Month() && now.Day() < birth.Day() {
		age--
	}
	return age
}
