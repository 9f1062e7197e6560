// Package answers turns what candidates type into typed answers.
//
// Candidates answer on phones, mostly with Chinese input methods: full-width
// digits and punctuation, ideographic spaces, 年/月/日, units such as 小时,
// a school name in front of a major. Every parser here folds those variants
// first ([Normalize]) and then either returns a value or an [*Invalid] whose
// Message is one zh-CN sentence the dialog can show as it is.
//
// The parsers are pure functions of their input (and of the "now" they are
// given); a [Matcher] is immutable once built, so all of it is safe for
// concurrent use.
package answers
