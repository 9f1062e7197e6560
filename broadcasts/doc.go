// Package broadcasts sends an admin's announcement to the candidates a
// filter chooses, at the platforms' pace, exactly once each.
//
// A broadcast is written once (a title, an expr-lang filter over
// [Fields] or a saved segment, a text with {placeholders}, an optional
// image), previewed (how many candidates match, a sample, how it looks on
// each channel) and sent now or at a set time. When it starts, its
// recipients are fixed and each one's text rendered; a [Runner] in every
// `regbot serve` process then hands recipients to the outbox in small
// batches, as fast as the channel's shared rate allows (a GCRA bucket in
// Redis, or in PostgreSQL without Redis), and notify delivers each
// outbox row like any other message: in order with the candidate's other
// messages, with its retries, 429 waits, the WeChat window and template
// rules, blocked users recorded and skipped. A recipient is an outbox row
// with the key broadcast:<id>:<candidate>, taken by one process only
// (SKIP LOCKED), so a crash, a restart or two instances never queue a
// message twice. docs/broadcasts.md describes it for operators.
package broadcasts
