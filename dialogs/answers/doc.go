// Package answers turns what candidates type into typed answers.
//
// Candidates answer on phones, mostly with Chinese input methods: full-width
// digits and punctuation, ideographic spaces, 年/月/日, units such as 小时,
// a school name in front of a major. Every parser here folds those variants
// first ([Normalize]) and then either returns a value or an [*Invalid] that
// names the problem by a code (and the values a message may show). The
// sentences themselves live in the plan file (texts "answers.<code>"), so
// this package holds no text a candidate reads.
//
// The parsers are pure functions of their input (and of the "now" they are
// given); a [Matcher] is immutable once built, so all of it is safe for
// concurrent use.
package answers
