// Package wechat is the WeChat official-account (公众号) channel. It is built
// on silenceper/wechat/v2, importing only its officialaccount packages and
// their credential, cache and util helpers: the root package sets the global
// logrus level to debug and would log raw message XML.
//
// # Webhook
//
// GET Config.Path answers WeChat's URL verification (echostr). POST
// receives messages in plaintext, compatible and safe (AES) mode. Answers:
//
//	413  body over 1 MiB
//	403  bad signature (or, in safe and compatible mode, bad msg_signature)
//	403  timestamp further than MaxClockSkew (default 5m) from now: a replay
//	400  unreadable XML, undecryptable message or wrong AppID
//	503  before Start or after Stop (WeChat retries, perhaps elsewhere)
//	503  after DefaultRetryHold (6 s, past WeChat's deadline) for a turn
//	     that failed for now: WeChat, with no answer in time, delivers the
//	     message again and the retry runs it (the message id was released)
//	200  "success" for unknown message types and events the bot ignores
//	     (VIEW, template receipts…), for unsubscribe (the candidate is
//	     marked unreachable, Deps.Unreachable), for retried deliveries,
//	     and for turns answered by customer-service message
//	200  a passive text reply otherwise
//
// A refused request never reaches the Handler.
//
// # Turns and the five-second rule
//
// WeChat retries a message it has no answer to within 5 s. The turn (media
// download, then the Handler) runs on the request's goroutine with a timer
// at ReplyBudget (3 s); no goroutine is started for it. Done in time: the
// texts up to the first image, joined while they fit (JoinReplies), are the
// passive reply (choices as numbered lines) and the rest follows by
// customer-service messages. Late: the timer answers
// "success" (complete, with Connection: close) and the turn, when done,
// sends all its messages by customer-service messages. Exactly one of the two sends, so the candidate gets the answer once. A
// turn that failed for now is not answered in time at all (see the 503
// above); one that failed late, and a Handler that panicked, send the
// plan's wechat_busy.
// Retried deliveries are the Router's (bot.ErrDuplicate): a retry of a
// recorded turn gets that turn's passive reply again (WeChat retries only
// when it did not get it), a retry of a turn still running gets "success".
// With the Router's WeChat split (SplitFor) the rest of the reply goes
// through the outbox, recorded with the turn.
//
// Message ids: MsgId for messages; FromUserName, CreateTime, Event and
// EventKey for events, which carry none.
//
// # Outgoing messages
//
// Customer-service messages (text, image uploaded as temporary media and
// reused for the same bytes, msgmenu for choices) are the outbox's: notify
// delivers them with Deliver, durably, in order and with retries (see
// docs/notify.md). WeChat takes at most five customer-service messages per
// candidate message, so a delivery's messages are combined (texts joined, a
// text before a question becomes its msgmenu head). Deliver tries each once
// and classifies failures for notify: 43004, 43019, 40003 unreachable;
// malformed messages and unknown templates permanent; 45011 and 45009 rate
// limited; the rest (network, errcode -1) transient. A token refused with
// 40001/42001/40014 is dropped from the cache and the call made once more;
// 45015 and 45047 (the window closed, the quota per message used up) switch
// to the template of the message's kind, or "fallback". What the webhook
// cannot answer with (a turn past the reply budget, the adapter's own
// notices) goes to the outbox through Deps.Later. Every failure is logged
// without token or URL (APIError) and counted in
// regbot_wechat_api_errors_total.
//
// # Access token
//
// One token is shared by all instances through Redis (Deps.Redis): an
// instance that finds none takes a Redis lock (SET NX, 15 s TTL) around the
// fetch while the others wait for the token to appear. Tokens come from the
// stable-token endpoint by default, which hands every caller the same valid
// token, so even a lost lock cannot make instances invalidate each other;
// classic_token switches to /cgi-bin/token, where the lock is what keeps a
// fetch from invalidating the others' token.
//
// Without Redis (embedded mode) all of this lives in the process, which is
// right for exactly one instance.
//
// # Process-wide settings
//
// The SDK keeps two globals: util.DefaultHTTPClient (see UseHTTPClient) and
// util.SetURIModifier, which tests use to point every API call at a local
// fake server. Set each once per process.
package wechat
